import type { WireEvent } from '@atspark/schemas'

/** The device fields the policy names, and nothing else: screen size, locale, time zone. */
export function device(): Pick<WireEvent, 'sw' | 'sh' | 'l' | 'tz'> {
  return {
    sw: screen.width,
    sh: screen.height,
    l: navigator.language.slice(0, 35),
    tz: Intl.DateTimeFormat().resolvedOptions().timeZone,
  }
}
