import { AckSchema, type Ack } from '@roadwatch/shared';

export type ParsedAck = { ok: true; ack: Ack } | { ok: false; reason: string };

/** Validates an ack payload from the hub; never throws (a bad payload is reported, not fatal). */
export function parseAck(payload: Buffer | string): ParsedAck {
  let json: unknown;
  try {
    json = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}` };
  }
  const parsed = AckSchema.safeParse(json);
  if (parsed.success) return { ok: true, ack: parsed.data };
  return { ok: false, reason: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
}
