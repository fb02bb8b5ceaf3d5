// Label text for annotated images, as an alpha mask. Fonts through sharp/librsvg when the machine has
// any; otherwise a built-in 5×7 bitmap font, so labels stay readable on a stripped device image.
import sharp from 'sharp';

/** Coverage of the text, 0…255, row by row. */
export interface TextMask {
  width: number;
  height: number;
  alpha: Uint8Array;
}

/** Renders one line of text `px` pixels tall (the line box: ascent + descent). */
export type TextRenderer = (text: string, px: number) => Promise<TextMask>;

export type TextMode = 'auto' | 'font' | 'bitmap';

// The classic public-domain 5×7 LCD font, ASCII 0x20…0x7e: 5 column bytes per glyph, bit 0 at the top.
const GLYPHS = Buffer.from(
  '000000000000005f00000007000700147f147f14242a7f2a12231308646236495522500005030000001c2241000041221c00' +
    '14083e081408083e080800503000000808080808006060000020100804023e5149453e00427f400042615149462141454b31' +
    '1814127f1027454545393c4a49493001710905033649494936064949291e0036360000005636000008142241001414141414' +
    '00412214080201510906324979413e7e1111117e7f494949363e414141227f4141221c7f494949417f090909013e4149497a' +
    '7f0808087f00417f41002040413f017f081422417f404040407f020c027f7f0408107f3e4141413e7f090909063e4151215e' +
    '7f09192946464949493101017f01013f4040403f1f2040201f3f4038403f631408146307087008076151494543007f414100' +
    '02040810200041417f0004020102044040404040000102040020545454787f484444383844444420384444487f3854545418' +
    '087e0901020c5252523e7f0804047800447d40002040443d007f1028440000417f40007c041804787c080404783844444438' +
    '7c14141408081414187c7c080404084854545420043f4440203c4040207c1c2040201c3c4030403c44281028440c5050503c' +
    '4464544c44000836410000007f000000413608001008081008',
  'hex',
);

/** Bitmap text: each glyph cell is 6×9 units (5×7 glyph, 1 column of spacing, 1 row above and below). */
export const bitmapText: TextRenderer = async (text, px) => {
  const scale = Math.max(1, Math.round(px / 9));
  const chars = [...text].map((c) => {
    const code = c.codePointAt(0) ?? 63;
    return code >= 0x20 && code <= 0x7e ? code - 0x20 : 63 - 0x20; // '?' for anything else
  });
  const width = Math.max(1, (chars.length * 6 - 1) * scale);
  const height = 9 * scale;
  const alpha = new Uint8Array(width * height);
  chars.forEach((glyph, i) => {
    for (let col = 0; col < 5; col++) {
      const bits = GLYPHS[glyph * 5 + col]!;
      for (let row = 0; row < 7; row++) {
        if ((bits & (1 << row)) === 0) continue;
        const x0 = (i * 6 + col) * scale;
        const y0 = (row + 1) * scale;
        for (let dy = 0; dy < scale; dy++) alpha.fill(255, (y0 + dy) * width + x0, (y0 + dy) * width + x0 + scale);
      }
    }
  });
  return { width, height, alpha };
};

const FONT_FAMILY = 'DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif';

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Font text through librsvg (pango + fontconfig), on a fixed line box so every label shares a baseline. */
export const fontText: TextRenderer = async (text, px) => {
  const size = Math.max(6, Math.round(px * 0.8));
  const height = Math.max(1, Math.round(px));
  const canvas = Math.ceil(text.length * size * 1.1) + size;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${canvas}" height="${height}"><text x="0" y="${Math.round(size * 0.98)}" font-family="${FONT_FAMILY}" font-weight="bold" font-size="${size}" fill="#fff">${escapeXml(text)}</text></svg>`;
  const { data, info } = await sharp(Buffer.from(svg)).ensureAlpha().extractChannel(3).raw().toBuffer({ resolveWithObject: true });
  let right = 0;
  for (let y = 0; y < info.height; y++) for (let x = right; x < info.width; x++) if (data[y * info.width + x]! > 0) right = x + 1;
  const width = Math.max(1, right);
  const alpha = new Uint8Array(width * info.height);
  for (let y = 0; y < info.height; y++) alpha.set(data.subarray(y * info.width, y * info.width + width), y * width);
  return { width, height: info.height, alpha };
};

/**
 * Whether text renders with real glyphs: a proportional font draws "WWWW" far wider than "iiii";
 * with no font installed both come out empty or as equal-width placeholder boxes.
 */
export async function fontsRender(): Promise<boolean> {
  try {
    const [wide, narrow] = await Promise.all([fontText('WWWW', 40), fontText('iiii', 40)]);
    const ink = (m: TextMask) => m.alpha.reduce((n, a) => n + (a > 127 ? 1 : 0), 0);
    return ink(wide) > 0 && ink(narrow) > 0 && wide.width > 1.6 * narrow.width;
  } catch {
    return false; // sharp without librsvg/pango
  }
}

let chosen: Promise<TextRenderer> | undefined;

/**
 * The renderer for `mode`; `auto` probes the fonts once per process (`probe` is a seam for tests:
 * whether fonts render depends on the machine's fontconfig, which a test cannot rely on).
 */
export function textRenderer(mode: TextMode = 'auto', probe: () => Promise<boolean> = fontsRender): Promise<TextRenderer> {
  if (mode === 'font') return Promise.resolve(fontText);
  if (mode === 'bitmap') return Promise.resolve(bitmapText);
  if (probe !== fontsRender) return probe().then((ok) => (ok ? fontText : bitmapText));
  chosen ??= fontsRender().then((ok) => (ok ? fontText : bitmapText));
  return chosen;
}
