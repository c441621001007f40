import type { WireBatch } from '@atspark/schemas'
import { describe, expect, test } from 'vitest'
import { ENDPOINT, loadSdk, setUrl, stubNetwork } from './test-support.js'

async function start(autocapture?: unknown) {
  const net = stubNetwork()
  const sdk = await loadSdk()
  sdk.init({ site: 'k', endpoint: ENDPOINT, mode: 'opt-out', autocapture: autocapture as never })
  const sent = async () => {
    await sdk.flush()
    return net.posts().flatMap((b: WireBatch) => b.e)
  }
  return { sdk, net, sent }
}

function click(element: Element) {
  element.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true }))
}

function mount(html: string): HTMLElement {
  document.body.innerHTML = html
  return document.body
}

describe('pageviews', () => {
  test('init records one; history.pushState to a new path records another, with host and path only', async () => {
    setUrl('https://app.example/home')
    const { sent } = await start()
    history.pushState({}, '', '/reports/42?token=secret#tab')
    const events = await sent()
    expect(events.map((e) => [e.t, e.u])).toEqual([
      ['pageview', 'https://app.example/home'],
      ['pageview', 'https://app.example/reports/42'],
    ])
    expect(JSON.stringify(events)).not.toContain('secret')
  })

  test('no duplicate for the same path back to back: replaceState, query or hash changes, repeated pushState', async () => {
    setUrl('https://app.example/home')
    const { sent } = await start()
    history.replaceState({}, '', '/home?sort=asc')
    history.pushState({}, '', '/home#details')
    history.pushState({}, '', '/next')
    history.pushState({}, '', '/next')
    history.replaceState({}, '', '/other')
    expect((await sent()).map((e) => e.u)).toEqual(['https://app.example/home', 'https://app.example/next', 'https://app.example/other'])
  })

  test('popstate (back/forward) records the path navigated to', async () => {
    setUrl('https://app.example/a')
    const { sent } = await start()
    history.pushState({}, '', '/b')
    // What the browser does on Back: the URL changes, then popstate fires.
    setUrl('https://app.example/a')
    window.dispatchEvent(new PopStateEvent('popstate'))
    expect((await sent()).map((e) => e.u)).toEqual(['https://app.example/a', 'https://app.example/b', 'https://app.example/a'])
  })

  test('a page restored from the back/forward cache (pageshow persisted) is a new pageview of the same path', async () => {
    setUrl('https://app.example/a')
    const { sent } = await start()
    // happy-dom's PageTransitionEvent ignores `persisted`, so the field is set as a browser would.
    const pageshow = (persisted: boolean) => window.dispatchEvent(Object.assign(new Event('pageshow'), { persisted }))
    pageshow(false)
    pageshow(true)
    expect((await sent()).map((e) => e.u)).toEqual(['https://app.example/a', 'https://app.example/a'])
  })
})

describe('clicks on data-atspark elements', () => {
  test('a click inside a marked element sends type click named by the attribute', async () => {
    const { sent } = await start({ pageviews: false })
    mount('<button data-atspark="export-csv"><span id="icon">⇩</span> Export</button><p id="plain">text</p>')
    click(document.getElementById('icon')!)
    click(document.getElementById('plain')!)
    const events = await sent()
    expect(events.map((e) => [e.t, e.n])).toEqual([['click', 'export-csv']])
  })

  test('an empty attribute sends nothing; a handler stopping propagation does not hide the click', async () => {
    const { sent } = await start({ pageviews: false })
    mount('<div data-atspark=""><b id="empty">x</b></div><div data-atspark="saved"><i id="inner">x</i></div>')
    document.getElementById('inner')!.addEventListener('click', (event) => event.stopPropagation())
    click(document.getElementById('empty')!)
    click(document.getElementById('inner')!)
    expect((await sent()).map((e) => e.n)).toEqual(['saved'])
  })
})

describe('outbound links', () => {
  test('a link to another host sends click "outbound" with that host only; same-host, mailto and plain links send nothing', async () => {
    setUrl('https://app.example/page')
    const { sent } = await start({ pageviews: false })
    mount(`
      <a id="out" href="https://partner.example/path?ref=secret"><span id="label">Partner</span></a>
      <a id="same" href="https://app.example/other">Same</a>
      <a id="relative" href="/docs">Docs</a>
      <a id="mail" href="mailto:a@b.example">Mail</a>
      <a id="none">No href</a>`)
    for (const target of ['out', 'same', 'relative', 'mail', 'none']) document.getElementById(target)!.addEventListener('click', (e) => e.preventDefault())
    for (const target of ['label', 'same', 'relative', 'mail', 'none']) click(document.getElementById(target)!)
    const events = await sent()
    expect(events.map((e) => [e.t, e.n, e.p])).toEqual([['click', 'outbound', { host: 'partner.example' }]])
    expect(JSON.stringify(events)).not.toMatch(/secret|\/path/)
  })

  test('a marked outbound link counts once, by its mark', async () => {
    const { sent } = await start({ pageviews: false })
    mount('<a id="out" data-atspark="partner-cta" href="https://partner.example/">Go</a>')
    document.getElementById('out')!.addEventListener('click', (e) => e.preventDefault())
    click(document.getElementById('out')!)
    expect((await sent()).map((e) => [e.t, e.n])).toEqual([['click', 'partner-cta']])
  })
})

describe('turning autocapture off', () => {
  const page = `<button id="marked" data-atspark="cta">Go</button><a id="out" href="https://partner.example/">Partner</a>`

  async function exercise(autocapture: unknown) {
    setUrl('https://app.example/a')
    const run = await start(autocapture)
    mount(page)
    document.getElementById('out')!.addEventListener('click', (e) => e.preventDefault())
    history.pushState({}, '', '/b')
    click(document.getElementById('marked')!)
    click(document.getElementById('out')!)
    return (await run.sent()).map((e) => `${e.t}:${e.n ?? e.u}`)
  }

  test.each([
    [undefined, ['pageview:https://app.example/a', 'pageview:https://app.example/b', 'click:cta', 'click:outbound']],
    [true, ['pageview:https://app.example/a', 'pageview:https://app.example/b', 'click:cta', 'click:outbound']],
    [false, []],
    ['false', []],
    [{ pageviews: false }, ['click:cta', 'click:outbound']],
    [{ clicks: false }, ['pageview:https://app.example/a', 'pageview:https://app.example/b', 'click:outbound']],
    [{ outbound: false }, ['pageview:https://app.example/a', 'pageview:https://app.example/b', 'click:cta']],
    [{ pageviews: false, clicks: false, outbound: false }, []],
  ])('autocapture %j', async (autocapture, expected) => {
    expect(await exercise(autocapture)).toEqual(expected)
  })

  test('manual page() still works with pageviews off', async () => {
    const { sdk, sent } = await start(false)
    sdk.page()
    expect((await sent()).map((e) => e.t)).toEqual(['pageview'])
  })
})
