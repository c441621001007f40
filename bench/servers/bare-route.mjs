// The ingest ceiling: a bare Hono route on the same HTTP server that parses the same JSON and answers 204.
import { serve } from '@hono/node-server'
import { Hono } from 'hono'

const app = new Hono()
app.post('/v1/batch', async (c) => {
  JSON.parse(await c.req.text())
  return c.body(null, 204)
})
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => console.log(JSON.stringify({ ready: { port: info.port } })))
// A clean exit, so --cpu-prof can write its profile.
process.once('SIGTERM', () => server.close(() => process.exit(0)))
