// Builds DOM from code only: text goes in as Text nodes, never parsed as HTML.

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  for (const name in attributes) node.setAttribute(name, attributes[name]!)
  node.append(...children)
  return node
}

export function button(text: string, onClick: () => void, secondary?: boolean): HTMLButtonElement {
  const node = el('button', { type: 'button', class: secondary ? 'atspark-secondary' : 'atspark-primary' }, text)
  node.addEventListener('click', onClick)
  return node
}

/** Moves focus back to where it came from, if that element is still on the page. */
export function restoreFocus(target: Element | null | undefined): void {
  if (target instanceof HTMLElement && target.isConnected && target !== document.body) target.focus()
}
