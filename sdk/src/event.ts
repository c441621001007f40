// What goes into one event: id, type, time, page, device, and bounded scalar props.
import type { EventType, WireEvent, WireProps } from '@atspark/schemas'
import { uuid } from './ids.js'

/** Free-form props as page code passes them; cleaned to the wire's bounds before queueing. */
export type Props = Record<string, unknown>

/** Keeps scheme, host and path; query and fragment may carry personal data and are never sent. */
export const stripUrl = (url: string): string => url.replace(/[?#].*/, '').slice(0, 2048)

/** The page as sent: stripUrl plus its utm_* campaign tags, the only query part kept (the processor drops a tag that looks personal). */
export const pageUrl = (url: string): string => {
  // A path holds no '?', and anything after '#' is never sent: each match is one tag of the query.
  const tags = url.split('#')[0]!.match(/[?&]utm_[^&]*/g)
  return (stripUrl(url) + (tags ? `?${tags.join('').slice(1)}` : '')).slice(0, 2048)
}

/**
 * The edge's rule for names, prop keys and user ids (schemas' wire.ts; sdk/src/clean.test.ts proves this copy
 * equal): no control characters, at most `max` UTF-16 units. Removes what the edge would refuse, so page code
 * (say `identify('user-123\n')`) cannot cost a browser its events; prop values may hold any control but NUL.
 */
export const clean = (text: string, max: number, bad = /\p{Cc}/gu): string => text.replace(bad, '').slice(0, max)

/**
 * Keeps at most 32 props whose keys the edge accepts as they are (1–64 chars, no controls, none of __proto__,
 * constructor, prototype) and scalar values (strings cleaned of NUL and cut to 512 chars), so one bad prop cannot
 * cost the event. NaN and ±Infinity serialise as null, which the wire accepts.
 */
export function cleanProps(props?: Props): WireProps | undefined {
  let out: WireProps | undefined
  let count = 0
  for (const key in props) {
    const value = props[key] as WireProps[string]
    if (
      count < 32 &&
      key &&
      clean(key, 64) === key &&
      // No test for __proto__: assigning it below sets no own key, so it never reaches the wire.
      !/^(constructor|prototype)$/.test(key) &&
      (value === null || 'boolean number string'.includes(typeof value))
    ) {
      out ||= {}
      out[key] = typeof value === 'string' ? clean(value, 512, /\0/g) : value
      count++
    }
  }
  return out
}

/** Per event, so cheap: one random id, the URL, no other DOM read; the device fields are stamped per batch (see device). */
export function createEvent(t: EventType, fields: Pick<WireEvent, 'n' | 'r'>, props?: Props): WireEvent {
  return { id: uuid(), t, ts: Date.now(), u: pageUrl(location.href), p: cleanProps(props), ...fields }
}
