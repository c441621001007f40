import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface PageServer {
  origin: string
  close(): Promise<void>
}

export interface PageOptions {
  site: string
  mode: 'opt-in' | 'opt-out'
  /** Also load the consent banner bundle. */
  ui?: boolean
  autocapture?: boolean
}

/**
 * A product page on its own localhost origin, embedding the built SDK served by the running
 * pipeline, under a strict CSP that only allows the ingest origin.
 */
export function startPageServer(port: number, ingest: string, options: PageOptions): Promise<PageServer> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end()
      return
    }
    const ui = options.ui || url.searchParams.has('ui')
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': `default-src 'none'; script-src ${ingest}; connect-src ${ingest}; style-src 'self'; base-uri 'none'`,
    })
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>page ${url.pathname}</title>
<script src="${ingest}/sdk/atspark.min.js" data-site="${options.site}" data-endpoint="${ingest}" data-mode="${options.mode}" data-policy-revision="1"${options.autocapture === false ? ' data-autocapture="false"' : ''}></script>
${ui ? `<script src="${ingest}/sdk/atspark-consent.min.js"></script>` : ''}
</head><body><h1>${url.pathname}</h1>
<button id="cta" data-atspark="cta_clicked" type="button">Start</button>
<a id="out" href="https://outbound.example/path?x=1">Elsewhere</a>
<a id="next" href="/next-page">Next page</a>
</body></html>`)
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as AddressInfo
      resolve({ origin: `http://localhost:${bound}`, close: () => new Promise((done) => server.close(() => done())) })
    })
  })
}
