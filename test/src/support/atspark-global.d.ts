// What the built IIFE puts on window, as the browser suites call it.
interface AtsparkConsentState {
  essential: true
  analytics: boolean
  preferences: boolean
  decided: boolean
  blockedBy?: 'dnt' | 'gpc'
}

interface Window {
  atspark: {
    track(name: string, props?: Record<string, unknown>): void
    page(props?: Record<string, unknown>): void
    query(name: string, props?: Record<string, unknown>): void
    dashboard(name: string, props?: Record<string, unknown>): void
    feature(name: string, props?: Record<string, unknown>): void
    identify(userId: string): void
    reset(): void
    flush(): Promise<void>
    consent: {
      get(): AtsparkConsentState
      set(choice: { analytics?: boolean; preferences?: boolean }, source?: 'banner' | 'api'): AtsparkConsentState
      onChange(fn: (s: AtsparkConsentState) => void): () => void
    }
  }
}
