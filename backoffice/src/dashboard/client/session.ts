// The analyst's API key lives in this tab's sessionStorage only: gone when the tab closes, never in
// localStorage, a cookie or the URL.

const KEY = 'atspark.dashboard.apiKey'

export function storedKey(storage: Storage = sessionStorage): string | undefined {
  return storage.getItem(KEY) ?? undefined
}

export function storeKey(key: string, storage: Storage = sessionStorage): void {
  storage.setItem(KEY, key)
}

export function forgetKey(storage: Storage = sessionStorage): void {
  storage.removeItem(KEY)
}
