// Building DOM without innerHTML: every string becomes a text node, so text from the server
// (names, logs, errors) is never parsed as markup.

export type Child = Node | string | number | null | undefined | false;
/** children, in lists nested as deep as convenient */
export type Children = Child | readonly Children[];
type Handler = (event: Event) => void;
export type Attrs = Record<string, string | number | boolean | undefined | Handler>;

/** An element with attributes (`onclick` etc. as listeners; true as an empty attribute) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Children[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: Children[]): void {
  for (const child of children) {
    if (Array.isArray(child)) {
      append(parent, ...(child as readonly Children[]));
      continue;
    }
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : (child as Node));
  }
}

/** A link to a hash route. */
export function link(href: string, ...children: Children[]): HTMLAnchorElement {
  return h('a', { href }, ...children);
}

/** A date as local time, with the exact time as its tooltip. */
export function timeElement(unixSeconds: number | undefined): HTMLTimeElement | string {
  if (unixSeconds === undefined) return 'n/a';
  const d = new Date(unixSeconds * 1000);
  return h('time', { datetime: d.toISOString(), title: d.toISOString() }, d.toLocaleString());
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element with attributes and children (as h, in the SVG namespace). */
export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Children[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, ...children);
  return el;
}
