import { z } from 'zod'

/** Cookie categories of atSpark's policy; `essential` is always on. */
export const ConsentCategory = z.enum(['essential', 'preferences', 'analytics'])
export type ConsentCategory = z.infer<typeof ConsentCategory>

/** `opt-in`: analytics off until granted; `opt-out`: on until refused. */
export const SiteMode = z.enum(['opt-in', 'opt-out'])
export type SiteMode = z.infer<typeof SiteMode>

/** Which browser signal denied analytics, as the SDK reports it. */
export const PrivacySignal = z.enum(['dnt', 'gpc'])
export type PrivacySignal = z.infer<typeof PrivacySignal>

/** Where a consent change came from. */
export const ConsentSource = z.enum(['banner', 'api', 'dnt', 'gpc', 'default'])
export type ConsentSource = z.infer<typeof ConsentSource>
