// Theme via CSS variables on :root (or any ancestor); defaults in the var() fallbacks.
// A constructable stylesheet, because a strict CSP (`style-src 'self'`) blocks <style> elements and style="" attributes.

export const CSS = `.atspark-c{--_bg:var(--atspark-bg,#fff);--_fg:var(--atspark-fg,#1b1b1f);--_muted:var(--atspark-muted,#55555f);--_a:var(--atspark-accent,#0b57d0);--_afg:var(--atspark-accent-fg,#fff);--_r:var(--atspark-radius,8px);--_focus:var(--atspark-focus,var(--_a));box-sizing:border-box;background:var(--_bg);color:var(--_fg);font:14px/1.5 var(--atspark-font,system-ui,sans-serif);border-radius:var(--_r);box-shadow:var(--atspark-shadow,0 4px 24px rgba(0,0,0,.25));padding:16px 20px;text-align:left}
.atspark-c:focus{outline:none}
.atspark-c *{box-sizing:border-box;font:inherit;color:inherit}
.atspark-c h2{margin:0 0 6px;font-size:16px;font-weight:600}
.atspark-c p{margin:0 0 12px}
.atspark-banner{position:fixed;z-index:var(--atspark-z,2147483000);left:16px;right:16px;bottom:16px;max-width:640px;margin:0 auto}
.atspark-overlay{position:fixed;z-index:var(--atspark-z,2147483000);inset:0;display:flex;align-items:center;justify-content:center;padding:16px;background:var(--atspark-backdrop,rgba(0,0,0,.45))}
.atspark-center{width:100%;max-width:480px;max-height:100%;overflow:auto}
.atspark-actions{display:flex;flex-wrap:wrap;gap:8px}
.atspark-c button{cursor:pointer;margin:0;padding:8px 16px;border:2px solid var(--_a);border-radius:var(--_r);background:var(--_a);color:var(--_afg);font-weight:600}
.atspark-c .atspark-secondary{background:transparent;color:var(--_a)}
.atspark-c button:hover{filter:brightness(1.1)}
.atspark-c :focus-visible{outline:3px solid var(--_focus);outline-offset:2px}
.atspark-row{display:flex;gap:10px;align-items:flex-start;margin:0 0 12px}
.atspark-c label{font-weight:600}
.atspark-c input{width:18px;height:18px;margin:2px 0 0;flex:none;accent-color:var(--_a)}
.atspark-c small{display:block;color:var(--_muted);font-size:13px}
.atspark-c .atspark-note{color:var(--_fg);font-weight:600}`

let sheet: CSSStyleSheet | undefined

/** Adopts the sheet (once per document); without constructable stylesheets (Safari < 16.4) the UI still works, unstyled. */
export function adoptStyles(): void {
  if (!('adoptedStyleSheets' in document)) return
  try {
    if (!sheet) {
      sheet = new CSSStyleSheet()
      sheet.replaceSync(CSS)
    }
    if (!document.adoptedStyleSheets.includes(sheet)) document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet]
  } catch {
    // A browser with adoptedStyleSheets but no constructor: unstyled beats broken.
  }
}
