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
  // The SPA's routes and a classic second page all serve the same shell.
  for (const path of ['/reports', '/pricing']) app.get(path, (c) => c.html(page(ingestUrl)))
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
<script src="${ingestUrl}/sdk/atspark.min.js" data-site="pk_demo" data-endpoint="${ingestUrl}" data-mode="opt-out" data-policy-revision="1" defer></script>
<script src="${ingestUrl}/sdk/atspark-consent.min.js" defer></script>
<script src="/demo.js" defer></script>
</head>
<body>
<header><strong>atSpark</strong> demo product
  <nav><a href="/" data-spa>Home</a> <a href="/reports" data-spa>Reports</a> <a href="/pricing">Pricing</a> <a href="https://example.org/docs">Docs ↗</a></nav>
</header>
<main>
  <h1 id="title">Telemetry you can defend</h1>
  <p>Each action below sends one event through ingest and the processor into the warehouse, unless you refuse analytics or your browser sends Do-Not-Track or Global Privacy Control. "Home" and "Reports" navigate without reloading (a single-page app); each is a pageview.</p>
  <div class="actions">
    <button id="run-query" type="button">Run a query</button>
    <button id="open-dashboard" type="button">Open a dashboard</button>
    <button id="use-feature" type="button">Try smart filters</button>
    <button id="signup" type="button" data-atspark="signup_cta">Start a trial</button>
    <button id="flush" type="button">Send now</button>
  </div>
  <section class="card" aria-labelledby="settings-title">
    <h2 id="settings-title">Account settings · Privacy</h2>
    <label class="toggle"><input id="analytics-toggle" type="checkbox"> Share product usage analytics with atSpark</label>
    <p class="hint">Turning this off stops all analytics at once: nothing queued is sent, and the analytics identifiers are deleted from this browser.</p>
    <p>Consent state: <output id="consent-state">loading…</output></p>
    <p><button type="button" data-atspark-consent="open">Cookie settings</button></p>
  </section>
  <p id="log" role="status"></p>
</main>
</body>
</html>`
}

const DEMO_SCRIPT = `'use strict';
(function () {
  function $(id) { return document.getElementById(id); }
  function note(text) { $('log').textContent = text; }
  function show(s) {
    $('consent-state').textContent = 'analytics ' + (s.analytics ? 'on' : 'off') +
      (s.blockedBy ? ' (blocked by ' + (s.blockedBy === 'gpc' ? 'Global Privacy Control' : 'Do Not Track') + ')' : '') +
      ', preferences ' + (s.preferences ? 'on' : 'off') + (s.decided ? '' : ', no choice made yet');
    var t = $('analytics-toggle');
    t.checked = s.analytics;
    t.disabled = !!s.blockedBy;
  }
  function ready() {
    var a = window.atspark;
    $('run-query').addEventListener('click', function () { a.query('revenue_by_region', { rows: 42 }); note('query event queued'); });
    $('open-dashboard').addEventListener('click', function () { a.dashboard('revenue'); note('dashboard event queued'); });
    $('use-feature').addEventListener('click', function () { a.feature('smart_filters'); note('feature event queued'); });
    $('flush').addEventListener('click', function () { a.flush().then(function () { note('sent'); }); });
    $('analytics-toggle').addEventListener('change', function (e) { a.consent.set({ analytics: e.target.checked }); });
    document.querySelectorAll('a[data-spa]').forEach(function (link) {
      link.addEventListener('click', function (e) {
        e.preventDefault();
        history.pushState({}, '', link.getAttribute('href'));
        $('title').textContent = link.textContent === 'Home' ? 'Telemetry you can defend' : 'Reports';
      });
    });
    a.consent.onChange(show);
    show(a.consent.get());
  }
  if (window.atspark && window.atspark.consent) ready(); else window.addEventListener('load', ready);
})();
`

const DEMO_CSS = `body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1d2330;background:#f7f8fb}
header{display:flex;gap:1rem;align-items:center;padding:.75rem 1.5rem;background:#1d2330;color:#fff}
header nav{margin-left:auto}header a{color:#cfe0ff;margin-left:1rem}
main{max-width:44rem;margin:2rem auto;padding:0 1.5rem}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin:1.5rem 0}
button{font:inherit;padding:.5rem .9rem;border-radius:.4rem;border:1px solid #9aa6c0;background:#fff;cursor:pointer}
button:hover{background:#eef3ff}.card{padding:1rem;border:1px solid #d5dbe8;border-radius:.5rem;background:#fff}
.toggle{display:flex;gap:.5rem;align-items:center;font-weight:600}.hint{color:#44506a;font-size:.9rem}
#log{color:#44506a;min-height:1.5em}`
