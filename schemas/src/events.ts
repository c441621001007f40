import { z } from 'zod'

/** Event types named by the privacy policy; all of them need the analytics grant. */
export const EventType = z.enum(['pageview', 'click', 'query', 'dashboard', 'feature', 'custom'])
export type EventType = z.infer<typeof EventType>

/** Device classes the processor derives from the user agent. */
export const DeviceType = z.enum(['desktop', 'mobile', 'tablet', 'console', 'smarttv', 'wearable', 'embedded', 'bot', 'unknown'])
export type DeviceType = z.infer<typeof DeviceType>
