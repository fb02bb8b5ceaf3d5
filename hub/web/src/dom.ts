// Small DOM helpers: the dashboard is plain TypeScript, no UI framework.

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

/**
 * `h('button', { type: 'button', class: 'button', onclick: fn }, 'Text')`: an element with
 * attributes (`on…` functions become listeners; false/null/undefined are left out, true is "")
 * and children (strings become text nodes — never parsed as HTML).
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/** An SVG element (namespaced), attributes as given. */
export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, ...children: Child[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  append(el, children);
  return el;
}

function append(el: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/** The element with this id, which index.html must have. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`index.html has no #${id}`);
  return el as T;
}

/** Replaces an element's children. */
export function setChildren(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** Shows `text` in a message element (role=alert/status in index.html), or hides it when null. */
export function showMessage(el: HTMLElement, text: string | null, kind?: 'error' | 'info' | 'warning'): void {
  el.hidden = text === null;
  el.textContent = text ?? '';
  if (kind) {
    el.classList.remove('message-error', 'message-info', 'message-warning');
    el.classList.add(`message-${kind}`);
  }
}

/** Says `text` to screen readers (the polite live region #announcer). */
export function announce(text: string): void {
  const el = document.getElementById('announcer');
  if (!el) return;
  // Clear first so the same text twice is announced twice.
  el.textContent = '';
  window.setTimeout(() => (el.textContent = text), 50);
}
