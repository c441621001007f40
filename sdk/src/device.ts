import type { WireEvent } from '@atspark/schemas'

/** Looked up once per page: each Intl.DateTimeFormat() costs ~100 µs, and a page's first starts ICU (13–51 ms). */
let tz: string | undefined

/** The IANA time zone; callers building a batch ask for it, so the first lookup never runs in the SDK's script tag. */
export const zone = (): string => (tz ||= Intl.DateTimeFormat().resolvedOptions().timeZone)

/**
 * The device fields the policy names, and nothing else: screen size, locale, time zone. `lazy` leaves the
 * time zone undefined until a batch has looked it up (body() stamps it before sending).
 */
export function device(lazy?: boolean): Pick<WireEvent, 'sw' | 'sh' | 'l' | 'tz'> {
  return {
    sw: screen.width,
    sh: screen.height,
    l: navigator.language.slice(0, 35),
    tz: lazy ? tz : zone(),
  }
}
