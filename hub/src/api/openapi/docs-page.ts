import type { JsonSchema, OpenApiDocument, OpenApiOperation } from './document.js';

/**
 * The API reference as one self-contained HTML page, rendered from the OpenAPI document: inline CSS,
 * no scripts, no fonts or images from elsewhere (hubs often have no internet).
 */
export function renderDocsPage(doc: OpenApiDocument): string {
  const ops = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));
  const byTag = doc.tags.map((tag) => ({ tag, ops: ops.filter((o) => o.op.tags[0] === tag.name) }));

  const nav = byTag
    .map(
      ({ tag, ops: list }) =>
        `<li><a href="#tag-${attr(tag.name)}">${esc(tag.name)}</a><ul>${list
          .map((o) => `<li><a href="#${attr(o.op.operationId)}"><span class="m m-${o.method}">${o.method.toUpperCase()}</span> ${esc(o.path)}</a></li>`)
          .join('')}</ul></li>`,
    )
    .join('');

  const sections = byTag
    .map(
      ({ tag, ops: list }) =>
        `<section id="tag-${attr(tag.name)}"><h2>${esc(tag.name)}</h2><p>${inline(tag.description)}</p>${list.map((o) => operation(o.path, o.method, o.op)).join('')}</section>`,
    )
    .join('');

  const schemes = Object.entries(doc.components.securitySchemes)
    .map(([name, s]) => `<li><code>${esc(name)}</code>: HTTP ${esc(s.scheme ?? '')} — ${inline(s.description ?? '')}</li>`)
    .join('');

  const schemas = Object.entries(doc.components.schemas)
    .map(([name, s]) => `<div class="schema" id="schema-${attr(name)}"><h3>${esc(name)}</h3>${s.description ? `<p>${inline(String(s.description))}</p>` : ''}${properties(s)}</div>`)
    .join('');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(doc.info.title)} ${esc(doc.info.version)}</title>
<style>${CSS}</style>
</head>
<body>
<nav><p class="brand">${esc(doc.info.title)}</p><p><a href="/openapi.json">openapi.json</a></p><ul>${nav}<li><a href="#schemas">schemas</a></li></ul></nav>
<main>
<h1>${esc(doc.info.title)} <small>${esc(doc.info.version)} · OpenAPI ${esc(doc.openapi)}</small></h1>
<p>${inline(doc.info.description)}</p>
<h2>Authentication</h2>
<ul>${schemes}</ul>
<pre>curl -H "Authorization: Bearer $TOKEN" 'http://HUB:8080/api/v1/alarms?latest=true&amp;status=active_unack'</pre>
<h2>Errors</h2>
<p>Every error answer is <code>{"error":{"code","message","requestId"}}</code>; the message names the cause and the fix, the requestId is also in the <code>X-Request-Id</code> header and in the hub log.</p>
${sections}
<section id="schemas"><h2>schemas</h2>${schemas}</section>
</main>
</body>
</html>
`;
}

function operation(path: string, method: string, op: OpenApiOperation): string {
  const params = op.parameters?.length
    ? `<h4>Parameters</h4><table><thead><tr><th>name</th><th>in</th><th>type</th><th>required</th><th>description</th></tr></thead><tbody>${op.parameters
        .map(
          (p) =>
            `<tr><td><code>${esc(p.name)}</code></td><td>${p.in}</td><td>${typeOf(p.schema)}${p.style === 'form' && p.explode === false ? ' <span class="note">(comma-separated or repeated)</span>' : ''}</td><td>${p.required ? 'yes' : 'no'}</td><td>${inline(p.description)}${p.example !== undefined ? ` <span class="note">e.g. <code>${esc(Array.isArray(p.example) ? p.example.join(',') : String(p.example))}</code></span>` : ''}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '';
  const body = op.requestBody
    ? `<h4>Request body</h4>${Object.entries(op.requestBody.content)
        .map(([type, c]) => `<p><code>${esc(type)}</code>: ${typeOf(c.schema)}${c.example !== undefined ? ` — e.g. <code>${esc(JSON.stringify(c.example))}</code>` : ''}</p>${properties(c.schema)}`)
        .join('')}`
    : '';
  const responses = `<h4>Responses</h4><table><thead><tr><th>status</th><th>description</th><th>body</th></tr></thead><tbody>${Object.entries(op.responses)
    .map(
      ([status, r]) =>
        `<tr><td>${esc(status)}</td><td>${inline(r.description)}</td><td>${Object.entries(r.content ?? {})
          .map(([type, c]) => `<code>${esc(type)}</code> ${typeOf(c.schema)}`)
          .join('<br>')}</td></tr>`,
    )
    .join('')}</tbody></table>`;
  return `<article id="${attr(op.operationId)}">
<h3><span class="m m-${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code> — ${esc(op.summary)}</h3>
${(op.description ?? '')
  .split('\n\n')
  .filter(Boolean)
  .map((p) => `<p>${inline(p)}</p>`)
  .join('')}
<pre>${esc(curl(path, method, op))}</pre>
${params}${body}${responses}
</article>`;
}

function curl(path: string, method: string, op: OpenApiOperation): string {
  const auth = op.security.some((s) => 'bearerAuth' in s)
    ? ' -H "Authorization: Bearer $TOKEN"'
    : op.security.some((s) => 'adminToken' in s)
      ? ' -H "Authorization: Bearer $ADMIN_TOKEN"'
      : op.security.some((s) => 'deviceBasic' in s)
        ? ' -u "$DEVICE_ID:$DEVICE_SECRET"'
        : '';
  const body = op.requestBody ? ` -H 'Content-Type: application/json' -d '${JSON.stringify(Object.values(op.requestBody.content)[0]?.example ?? {})}'` : '';
  return `curl${method === 'get' ? '' : ` -X ${method.toUpperCase()}`}${auth}${body} 'http://HUB:8080${path}'`;
}

function properties(schema: JsonSchema): string {
  const props = schema.properties as Record<string, JsonSchema> | undefined;
  if (!props || !Object.keys(props).length) return '';
  const required = new Set((schema.required as string[] | undefined) ?? []);
  return `<table><thead><tr><th>field</th><th>type</th><th>description</th></tr></thead><tbody>${Object.entries(props)
    .map(([name, p]) => `<tr><td><code>${esc(name)}</code>${required.has(name) ? '' : ' <span class="note">optional</span>'}</td><td>${typeOf(p)}</td><td>${inline(String(p.description ?? ''))}</td></tr>`)
    .join('')}</tbody></table>`;
}

/** A short human reading of a JSON Schema: `integer 1–1000, default 100`, `array of Alarm`, `string | null`. */
export function typeOf(s: JsonSchema | undefined): string {
  if (!s) return 'any';
  if (typeof s.$ref === 'string') {
    const name = s.$ref.split('/').pop()!;
    return `<a href="#schema-${attr(name)}">${esc(name)}</a>`;
  }
  const alts = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
  if (alts) return alts.map(typeOf).join(' | ');
  if (s.const !== undefined) return `<code>${esc(JSON.stringify(s.const))}</code>`;
  const types = Array.isArray(s.type) ? (s.type as string[]) : s.type ? [s.type as string] : [];
  let base: string;
  if (Array.isArray(s.enum)) base = `one of ${(s.enum as unknown[]).map((v) => `<code>${esc(String(v))}</code>`).join(', ')}`;
  else if (types.includes('array')) base = Array.isArray(s.prefixItems) ? `[${(s.prefixItems as JsonSchema[]).map(typeOf).join(', ')}]` : `array of ${typeOf(s.items as JsonSchema | undefined)}`;
  else if (types.includes('object') && s.additionalProperties && typeof s.additionalProperties === 'object' && !s.properties) base = `object of ${typeOf(s.additionalProperties as JsonSchema)}`;
  else base = esc(types.filter((t) => t !== 'null').join(' | ') || 'any');
  const notes: string[] = [];
  if (typeof s.format === 'string') notes.push(esc(s.format));
  if (s.minimum !== undefined || s.maximum !== undefined) notes.push(`${s.minimum ?? '…'}–${s.maximum ?? '…'}`);
  if (s.default !== undefined) notes.push(`default ${esc(JSON.stringify(s.default))}`);
  if (typeof s.pattern === 'string') notes.push(`pattern <code>${esc(s.pattern)}</code>`);
  if (typeof s.maxLength === 'number') notes.push(`≤ ${s.maxLength} characters`);
  return `${base}${notes.length ? ` <span class="note">(${notes.join(', ')})</span>` : ''}${types.includes('null') ? ' | null' : ''}`;
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const attr = (text: string): string => esc(text.replace(/[^A-Za-z0-9_-]/g, '-'));

/** Escapes, then renders `code` spans. */
function inline(text: string): string {
  return esc(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

const CSS = `
:root{--fg:#1d2329;--muted:#5b6670;--line:#d9dee3;--bg:#fff;--code:#f3f5f7;--get:#1a7f37;--post:#9a6700;--delete:#cf222e;--put:#0969da}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);display:flex}
nav{position:sticky;top:0;height:100vh;overflow:auto;width:300px;flex:none;padding:16px;border-right:1px solid var(--line);font-size:13px}
nav ul{list-style:none;padding-left:0;margin:4px 0}nav ul ul{padding-left:10px}nav a{color:var(--fg);text-decoration:none}nav a:hover{text-decoration:underline}
.brand{font-weight:700;font-size:16px;margin:0 0 8px}
main{padding:24px 32px;max-width:1100px;min-width:0}h1 small{font-size:14px;color:var(--muted);font-weight:400}
h2{border-bottom:1px solid var(--line);padding-bottom:4px;margin-top:40px}article{margin:24px 0 36px}h3{font-size:17px}h4{margin:14px 0 6px;font-size:14px}
code,pre{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--code);border-radius:4px}code{padding:1px 4px}
pre{padding:10px;overflow:auto}table{border-collapse:collapse;width:100%;font-size:14px;margin:6px 0}
th,td{border:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}th{background:var(--code)}
.m{display:inline-block;min-width:52px;text-align:center;font:700 12px ui-monospace,monospace;color:#fff;border-radius:4px;padding:2px 4px}
.m-get{background:var(--get)}.m-post{background:var(--post)}.m-delete{background:var(--delete)}.m-put{background:var(--put)}
.note{color:var(--muted);font-size:13px}.schema{margin:18px 0}
@media (max-width:800px){body{display:block}nav{position:static;height:auto;width:auto;border-right:0;border-bottom:1px solid var(--line)}}
`;
