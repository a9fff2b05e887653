// Small helpers that build DOM and SVG elements without a framework.

export type Child = Node | string | number | null | undefined | false;

// Attribute values: strings and numbers are set, true sets an empty attribute,
// false, null and undefined leave it out. Keys starting with "on" take listeners.
export type Props = Record<string, string | number | boolean | null | undefined | EventListener>;

const SVG_NAMESPACE = "http://www.w3.org/2000/svg";

function applyProps(element: Element, props: Props | undefined): void {
  if (props === undefined) {
    return;
  }
  for (const [key, value] of Object.entries(props)) {
    if (typeof value === "function") {
      element.addEventListener(key.slice(2), value);
      continue;
    }
    if (value === false || value === null || value === undefined) {
      continue;
    }
    element.setAttribute(key, value === true ? "" : String(value));
  }
}

function appendChildren(element: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    element.append(typeof child === "number" ? String(child) : child);
  }
}

/** Create an HTML element with attributes, listeners and children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props?: Props,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  applyProps(element, props);
  appendChildren(element, children);
  return element;
}

/** Create an SVG element with attributes, listeners and children. */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  props?: Props,
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NAMESPACE, tag);
  applyProps(element, props);
  appendChildren(element, children);
  return element;
}

/** Create a `<select>` whose options are [value, label] pairs. */
export function select(
  props: Props,
  options: ReadonlyArray<readonly [string, string]>,
  selected: string,
): HTMLSelectElement {
  const element = el("select", props);
  for (const [value, label] of options) {
    const option = el("option", { value }, label);
    option.selected = value === selected;
    element.append(option);
  }
  return element;
}

/** Wrap a control and its text in a `<label>`, so the text names the control. */
export function labelled(text: string, control: HTMLElement): HTMLLabelElement {
  return el("label", { class: "field" }, el("span", {}, text), control);
}

/** Replace every child of `parent` with `children`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  appendChildren(parent, children);
}
