// What goes into one event: id, type, time, page, device, and bounded scalar props.
import type { EventType, WireEvent, WireProps } from '@atspark/schemas'
import { device } from './device.js'
import { uuid } from './ids.js'

/** Free-form props as page code passes them; cleaned to the wire's bounds before queueing. */
export type Props = Record<string, unknown>

/** Keeps scheme, host and path; query and fragment may carry personal data and are never sent. */
export const stripUrl = (url: string): string => url.replace(/[?#].*/, '').slice(0, 2048)

/** Keeps at most 32 scalar props with keys ≤ 64 and strings ≤ 512 chars, so one bad prop cannot fail a batch. */
export function cleanProps(props?: Props): WireProps | undefined {
  const out: WireProps = {}
  let count = 0
  for (const key in props) {
    const value = props[key]
    const type = typeof value
    if (count < 32 && key && key.length <= 64 && (value === null || type === 'boolean' || type === 'string' || (type === 'number' && Number.isFinite(value)))) {
      out[key] = type === 'string' ? (value as string).slice(0, 512) : (value as WireProps[string])
      count++
    }
  }
  return count ? out : undefined
}

export function createEvent(t: EventType, fields: Pick<WireEvent, 'n' | 'r'>, props?: Props): WireEvent {
  return { id: uuid(), t, ts: Date.now(), u: stripUrl(location.origin + location.pathname), p: cleanProps(props), ...fields, ...device() }
}
