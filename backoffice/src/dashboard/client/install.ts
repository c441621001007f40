import { el } from './dom.js'
import { formatCount, hiddenText, hiddenTitle } from './format.js'
import type { IntegrationResponse } from './types.js'

/** The script tag to embed, with placeholders: an analyst key cannot read a site's write key. */
export function snippet(): string {
  return `<script src="https://YOUR-INGEST-HOST/sdk/atspark.min.js" defer
        data-site="pk_YOUR_SITE_WRITE_KEY"
        data-endpoint="https://YOUR-INGEST-HOST"></script>`
}

/** Shown instead of flat zeros while a site has fewer than k visitors: how to install, and the last 30 minutes of events as they arrive. */
export function renderInstall(host: HTMLElement, site: string): void {
  host.replaceChildren(
    el('h2', { id: 'install-title' }, `No visitors to show on ${site} yet`),
    el('p', {}, 'Fewer than k visitors in this range: nothing can be shown without singling someone out. Just installed the SDK? Your own first events appear below within seconds.'),
    el(
      'p',
      {},
      'Add the SDK to the site’s pages. Its ',
      el('code', {}, 'data-site'),
      ' is the site’s write key (',
      el('code', {}, 'pk_…'),
      '): the ',
      el('code', {}, 'write_key'),
      ` of site "${site}" in the back office’s tenants file (ask whoever runs atSpark; an analyst key cannot read it). Under `,
      el('code', {}, 'npm start'),
      ' the demo page already embeds it; see docs/sdk.md.',
    ),
    el('pre', { class: 'snippet' }, el('code', {}, snippet())),
    el('h3', {}, 'Arriving now (last 30 minutes, refreshed every 5 s)'),
    el('div', { id: 'integration-body', 'aria-live': 'polite' }, el('p', { class: 'empty' }, 'Waiting for the first answer…')),
  )
}

export function renderIntegration(host: HTMLElement, body: IntegrationResponse, k: number): void {
  const last = body.last_event_at ? `${body.last_event_at.replace('T', ' ').slice(0, 19)} UTC` : 'none in the last 30 minutes'
  const rows = (list: { type: string; name: string; events: number | null }[]) =>
    list.map((r) =>
      el(
        'tr',
        { 'data-name': `${r.type}:${r.name}` },
        el('th', { scope: 'row' }, r.name ? `${r.type}: ${r.name}` : r.type),
        el('td', { class: 'num', title: r.events === null ? hiddenTitle(k) : undefined }, r.events === null ? hiddenText(k) : formatCount(r.events)),
      ),
    )
  host.replaceChildren(
    el('p', {}, 'Last event received: ', el('strong', { id: 'integration-last' }, last)),
    el(
      'div',
      { class: 'integration-split' },
      el(
        'table',
        { class: 'data', id: 'integration-humans' },
        el('caption', {}, 'People: ', body.humans.events === null ? el('span', { title: hiddenTitle(k) }, `${hiddenText(k)} visitors so far`) : plural(body.humans.events, 'event')),
        el('tbody', {}, ...rows(body.humans.by_name)),
      ),
      el(
        'table',
        { class: 'data', id: 'integration-bots' },
        el('caption', {}, `Bots and headless browsers (counted apart, exactly): ${plural(body.bots.events, 'event')}`),
        el('tbody', {}, ...rows(body.bots.by_name)),
      ),
    ),
  )
}

const plural = (n: number, noun: string) => `${formatCount(n)} ${noun}${n === 1 ? '' : 's'}`
