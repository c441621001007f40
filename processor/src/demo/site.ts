import { Hono } from 'hono'

/** A stand-in product page that embeds the SDK the way customers do, under a strict CSP. */
export function createDemoApp(ingestUrl: string): Hono {
  const app = new Hono()
  const csp = [
    "default-src 'none'",
    `script-src 'self' ${ingestUrl}`,
    `connect-src ${ingestUrl}`,
    "style-src 'self'",
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ')
  app.use(async (c, next) => {
    await next()
    c.header('Content-Security-Policy', csp)
    c.header('Referrer-Policy', 'strict-origin-when-cross-origin')
    c.header('X-Content-Type-Options', 'nosniff')
  })
  app.get('/', (c) => c.html(page(ingestUrl)))
  app.get('/pricing', (c) => c.html(page(ingestUrl)))
  // Browsers ask for it on every page; answering keeps their consoles clean.
  app.get('/favicon.ico', (c) => c.body(null, 204))
  app.get('/demo.js', (c) => {
    c.header('Content-Type', 'application/javascript; charset=utf-8')
    return c.body(DEMO_SCRIPT)
  })
  app.get('/demo.css', (c) => {
    c.header('Content-Type', 'text/css; charset=utf-8')
    return c.body(DEMO_CSS)
  })
  return app
}

function page(ingestUrl: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>atSpark demo product</title>
<link rel="stylesheet" href="/demo.css">
<script src="${ingestUrl}/sdk/atspark.min.js" data-site="pk_demo" data-endpoint="${ingestUrl}" data-mode="opt-out" defer></script>
<script src="/demo.js" defer></script>
</head>
<body>
<header><strong>atSpark</strong> demo product <nav><a href="/">Home</a> <a href="/pricing">Pricing</a></nav></header>
<main>
  <h1>Telemetry you can defend</h1>
  <p>Every button below sends one event through ingest and the processor into the warehouse, unless you refuse analytics or your browser sends Do-Not-Track or Global Privacy Control.</p>
  <div class="actions">
    <button id="run-query" type="button">Run a query</button>
    <button id="open-dashboard" type="button">Open a dashboard</button>
    <button id="use-feature" type="button">Try the new feature</button>
    <button id="flush" type="button">Send now</button>
  </div>
  <section class="consent">
    <h2>Your choice</h2>
    <p id="consent-state">Loading…</p>
    <button id="grant" type="button">Allow analytics</button>
    <button id="refuse" type="button">Refuse analytics</button>
  </section>
  <p id="log" aria-live="polite"></p>
</main>
</body>
</html>`
}

const DEMO_SCRIPT = `'use strict';
(function () {
  function $(id) { return document.getElementById(id); }
  function show() {
    var s = window.atspark.consent.get();
    $('consent-state').textContent = 'analytics: ' + (s.analytics ? 'on' : 'off') +
      (s.blockedBy ? ' (blocked by ' + s.blockedBy.toUpperCase() + ')' : '') + ', preferences: ' + (s.preferences ? 'on' : 'off');
  }
  function note(text) { $('log').textContent = text; }
  function ready() {
    $('run-query').addEventListener('click', function () { window.atspark.track('query_run', { source: 'demo' }); note('query event queued'); });
    $('open-dashboard').addEventListener('click', function () { window.atspark.track('dashboard_open', { dashboard: 'revenue' }); note('dashboard event queued'); });
    $('use-feature').addEventListener('click', function () { window.atspark.track('feature_use', { feature: 'smart-filters' }); note('feature event queued'); });
    $('flush').addEventListener('click', function () { window.atspark.flush().then(function () { note('sent'); }); });
    $('grant').addEventListener('click', function () { window.atspark.consent.set({ analytics: true }); show(); });
    $('refuse').addEventListener('click', function () { window.atspark.consent.set({ analytics: false }); show(); });
    show();
  }
  if (window.atspark) ready(); else window.addEventListener('load', ready);
})();
`

const DEMO_CSS = `body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1d2330;background:#f7f8fb}
header{display:flex;gap:1rem;align-items:center;padding:.75rem 1.5rem;background:#1d2330;color:#fff}
header nav{margin-left:auto}header a{color:#cfe0ff;margin-left:1rem}
main{max-width:44rem;margin:2rem auto;padding:0 1.5rem}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin:1.5rem 0}
button{font:inherit;padding:.5rem .9rem;border-radius:.4rem;border:1px solid #9aa6c0;background:#fff;cursor:pointer}
button:hover{background:#eef3ff}.consent{padding:1rem;border:1px solid #d5dbe8;border-radius:.5rem;background:#fff}
#log{color:#44506a;min-height:1.5em}`
