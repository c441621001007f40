import type { CohortsResponse, FunnelResponse } from '@atspark/schemas'
import { el } from './dom.js'
import { formatCount, formatRate, valueNode } from './format.js'

export const FUNNEL_MAX = 8

/** The funnel builder's step fields: each one a page (pageview:/path) or an event name, with suggestions. */
export function renderFunnelSteps(host: HTMLElement, steps: string[], onChange: (steps: string[]) => void): void {
  const fields = steps.map((step, i) => {
    const input = el('input', { type: 'text', id: `funnel-step-${i}`, list: 'funnel-options', value: step, placeholder: i === 0 ? 'pageview:/pricing' : 'signup', autocomplete: 'off', spellcheck: 'false' })
    input.addEventListener('change', () => {
      const next = [...steps]
      next[i] = input.value.trim()
      onChange(next)
    })
    const remove = el('button', { type: 'button', class: 'quiet-dark', 'aria-label': `Remove step ${i + 1}`, disabled: steps.length <= 2 }, '×')
    remove.addEventListener('click', () => onChange(steps.filter((_, j) => j !== i)))
    return el('li', {}, el('label', { for: `funnel-step-${i}` }, `Step ${i + 1}`), input, remove)
  })
  host.replaceChildren(...fields)
}

export function renderFunnelOptions(list: HTMLDataListElement, pages: string[], events: string[]): void {
  list.replaceChildren(...pages.map((p) => el('option', { value: `pageview:${p}` })), ...events.map((e) => el('option', { value: e })))
}

/** Each step's visitors as a bar of the first step's, with the conversion from the step before. */
export function renderFunnel(host: HTMLElement, body: FunnelResponse): void {
  const first = body.steps[0]?.visitors ?? null
  host.replaceChildren(
    el(
      'ol',
      { class: 'funnel' },
      ...body.steps.map((s, i) => {
        const bar = el('span', { class: 'funnel-bar', 'aria-hidden': 'true' })
        bar.style.width = `${first && s.visitors !== null ? ((s.visitors / first) * 100).toFixed(1) : 0}%`
        return el(
          'li',
          { 'data-step': s.step },
          el('span', { class: 'funnel-label' }, bar, el('span', { class: 'funnel-text' }, `${i + 1}. ${s.step}`)),
          el('span', { class: 'num' }, valueNode(formatCount(s.visitors), s.visitors === null)),
          el('span', { class: 'num secondary' }, i === 0 ? '' : valueNode(formatRate(s.conversion), s.conversion === null)),
        )
      }),
    ),
    el('p', { class: 'card-note' }, `Visitors who did the steps in this order within ${Math.round(body.window / 60)} minutes of the first; % from the step before.`),
  )
}

/** First-use cohorts as a triangle: a row per cohort, a column per period after it, each cell the share still using the feature. */
export function renderCohorts(host: HTMLElement, body: CohortsResponse): void {
  if (body.cohorts.length === 0) {
    host.replaceChildren(el('p', { class: 'empty' }, 'No cohort in this range.'))
    return
  }
  const offsets = Math.max(0, ...body.cohorts.map((c) => c.retained.length))
  const cell = (accounts: number | null, of: number | null) => {
    if (accounts === null || !of) return el('td', { class: 'num heat is-hidden' }, valueNode(formatCount(accounts), accounts === null))
    const share = accounts / of
    const td = el('td', { class: `num heat heat-${Math.min(5, Math.ceil(share * 5))}`, title: `${formatCount(accounts)} of ${formatCount(of)} accounts` }, formatRate(share))
    return td
  }
  host.replaceChildren(
    el(
      'div',
      { class: 'table-wrap' },
      el(
        'table',
        { class: 'data cohorts' },
        el('caption', {}, `Accounts by week of first use of ${body.feature}, and the share using it again each later week`),
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'First used'), el('th', { scope: 'col', class: 'num' }, 'Accounts'), ...Array.from({ length: offsets }, (_, i) => el('th', { scope: 'col', class: 'num' }, `+${i + 1}`)))),
        el(
          'tbody',
          {},
          ...body.cohorts.map((c) =>
            el(
              'tr',
              { 'data-cohort': c.cohort },
              el('th', { scope: 'row' }, c.cohort),
              el('td', { class: 'num' }, valueNode(formatCount(c.accounts), c.accounts === null)),
              ...c.retained.map((r) => cell(r.accounts, c.accounts)),
            ),
          ),
        ),
      ),
    ),
  )
}
