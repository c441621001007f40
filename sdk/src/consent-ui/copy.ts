// Every visible string in one place, so a translation touches one file.
import type { PrivacySignal } from '@atspark/schemas'

export const COPY = {
  bannerTitle: 'Your privacy',
  bannerText: 'We use essential cookies to run this site and, with your consent, to remember your preferences and measure usage.',
  acceptAll: 'Accept all',
  rejectAll: 'Reject all',
  preferences: 'Preferences',
  centerTitle: 'Privacy preferences',
  centerText: 'Choose what we may store and measure. You can change this at any time.',
  essential: 'Essential',
  essentialText: 'Needed for the site to work and to remember this choice.',
  preferencesText: 'Remembers your settings, such as layout and language.',
  analytics: 'Analytics',
  analyticsText: 'Measures how the site is used so we can improve it.',
  save: 'Save',
  cancel: 'Cancel',
} as const

export const SIGNAL_NOTE: Record<PrivacySignal, string> = {
  gpc: 'Your browser sends Global Privacy Control, so analytics stays off.',
  dnt: 'Your browser sends Do Not Track, so analytics stays off.',
}
