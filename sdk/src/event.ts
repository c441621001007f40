// What goes into one event: id, type, time, page, device, and bounded scalar props.
import type { EventType, WireEvent, WireProps } from '@atspark/schemas'
import { uuid } from './ids.js'

/** Free-form props as page code passes them; cleaned to the wire's bounds before queueing. */
export type Props = Record<string, unknown>

/** Keeps scheme, host and path; query and fragment may carry personal data and are never sent. */
export const stripUrl = (url: string): string => url.replace(/[?#].*/, '').slice(0, 2048)

/**
 * Keeps at most 32 props with keys ≤ 64 chars and scalar values (strings cut to 512 chars), so one bad
 * prop cannot cost the event. NaN and ±Infinity serialise as null, which the wire accepts.
 */
export function cleanProps(props?: Props): WireProps | undefined {
  let out: WireProps | undefined
  let count = 0
  for (const key in props) {
    const value = props[key] as WireProps[string]
    if (count < 32 && key && key.length < 65 && (value === null || 'boolean number string'.includes(typeof value))) {
      out ||= {}
      out[key] = typeof value === 'string' ? value.slice(0, 512) : value
      count++
    }
  }
  return out
}

/** Per event, so cheap: one random id, the URL, no other DOM read; the device fields are stamped per batch (see device). */
export function createEvent(t: EventType, fields: Pick<WireEvent, 'n' | 'r'>, props?: Props): WireEvent {
  return { id: uuid(), t, ts: Date.now(), u: stripUrl(location.href), p: cleanProps(props), ...fields }
}
