// Keeps Tab inside an open dialog: wraps at both ends and pulls focus back if it escaped.

/** The dialogs are built here and hold only buttons and checkboxes. */
const FOCUSABLE = 'button,input'

export function focusables(root: Element): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((node) => !(node as HTMLButtonElement).disabled)
}

/** Handles a keydown on `root`; only Tab at an edge is taken over, the browser moves focus in between. */
export function trapTab(root: HTMLElement, event: KeyboardEvent): void {
  if (event.key !== 'Tab') return
  const items = focusables(root)
  const active = document.activeElement
  const outside = !root.contains(active)
  const first = items[0]
  const last = items[items.length - 1]
  let target: HTMLElement | undefined
  if (event.shiftKey) {
    if (active === first || active === root || outside) target = last
  } else if (active === last || outside) target = first
  if (target) {
    event.preventDefault()
    target.focus()
  }
}
