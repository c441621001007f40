// Reads a V8 .cpuprofile (node --cpu-prof): self and inclusive time per function, self time per package, and
// folded stacks (flamegraph.pl / speedscope input).
import { readFileSync, writeFileSync } from 'node:fs'

const ROOT = new URL('../../', import.meta.url).pathname

/** "zod", "@atspark/ingest", "node:internal", "(garbage collector)"… for a call frame. */
export function owner(frame) {
  const url = frame.url ?? ''
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)'
  const nm = url.lastIndexOf('/node_modules/')
  if (nm !== -1) {
    const parts = url.slice(nm + 14).split('/')
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]
  }
  if (url.startsWith('http')) return `page ${new URL(url).pathname}`
  if (url.startsWith('node:')) return url.startsWith('node:internal') ? 'node:internal' : url
  const path = url.replace('file://', '')
  if (path.startsWith(ROOT)) {
    const [pkg] = path.slice(ROOT.length).split('/')
    return ['ingest', 'processor', 'schemas', 'sdk'].includes(pkg) ? `@atspark/${pkg}` : pkg
  }
  return path
}

function location(frame) {
  const raw = frame.url ?? ''
  const url = (raw.startsWith('http') ? new URL(raw).pathname.slice(1) : raw).replace('file://', '').replace(ROOT, '')
  const short = url.includes('/node_modules/') ? url.slice(url.lastIndexOf('/node_modules/') + 14) : url
  return short ? `${short}:${frame.lineNumber + 1}` : ''
}

/** Aggregates a profile, skipping its first `skipMs` (start-up); percentages are of the busy (non-idle) time. */
export function analyse(file, skipMs = 0) {
  const profile = JSON.parse(readFileSync(file, 'utf8'))
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const key = (n) => `${n.callFrame.functionName || '(anonymous)'}\t${location(n.callFrame)}`
  const self = new Map()
  const inclusive = new Map()
  const byOwner = new Map()
  const folded = new Map()
  const owners = new Map()
  let total = 0
  let idle = 0
  let elapsed = 0
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000
    elapsed += dt
    if (elapsed < skipMs) return
    const node = byId.get(id)
    total += dt
    if (node.callFrame.functionName === '(idle)') {
      idle += dt
      return
    }
    self.set(key(node), (self.get(key(node)) ?? 0) + dt)
    const o = owner(node.callFrame)
    byOwner.set(o, (byOwner.get(o) ?? 0) + dt)
    const seen = new Set()
    const stack = []
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)
      if (n.callFrame.functionName === '(root)') break
      stack.push(`${n.callFrame.functionName || '(anonymous)'} [${owner(n.callFrame)}]`)
      const k = key(n)
      owners.set(k, owner(n.callFrame))
      if (seen.has(k)) continue
      seen.add(k)
      inclusive.set(k, (inclusive.get(k) ?? 0) + dt)
    }
    const line = stack.reverse().join(';')
    folded.set(line, (folded.get(line) ?? 0) + dt)
  })
  const busy = total - idle
  const rows = (m) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, ms]) => {
        const [fn, loc] = k.split('\t')
        return { fn, loc: loc ?? '', owner: owners.get(k) ?? k, ms, pct: (ms / busy) * 100 }
      })
  return { totalMs: total, busyMs: busy, self: rows(self), inclusive: rows(inclusive), owners: rows(byOwner), folded }
}

/** Writes folded stacks (`frame;frame;frame <µs>`), the input of flamegraph.pl and speedscope. */
export function writeFolded(result, file) {
  writeFileSync(file, [...result.folded.entries()].map(([stack, ms]) => `${stack} ${Math.round(ms * 1000)}`).join('\n'))
}
