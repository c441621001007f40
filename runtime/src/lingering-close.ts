import type { IncomingMessage } from 'node:http'

/** At most this much of an unread request body is read and thrown away before answering. */
export const LINGER_MAX_BYTES = 1024 * 1024
/** …and for at most this long. */
export const LINGER_MAX_MS = 1_000

/**
 * Reads and discards what is left of a request body the app answered without reading (an early 4xx or a
 * 413), within bounds, before the answer goes out. Closing a socket with unread bytes in it makes TCP send
 * a reset, and a reset can destroy the answer before the client reads it; this is the lingering close
 * that HTTP servers do. Past the bounds the client is abusive and may lose its answer.
 */
export function finishReading(incoming: IncomingMessage | undefined, maxBytes = LINGER_MAX_BYTES, maxMs = LINGER_MAX_MS): Promise<void> {
  if (!incoming || incoming.complete || incoming.destroyed || incoming.readableEnded) return Promise.resolve()
  // A body declared past the bound would not be finished anyway: answer at once.
  if (Number(incoming.headers['content-length']) > maxBytes) return Promise.resolve()
  return new Promise((resolve) => {
    let seen = 0
    const done = () => {
      clearTimeout(timer)
      incoming.off('data', onData)
      incoming.off('end', done)
      incoming.off('close', done)
      incoming.off('error', done)
      resolve()
    }
    const onData = (chunk: Buffer) => {
      seen += chunk.length
      if (seen > maxBytes) done()
    }
    const timer = setTimeout(done, maxMs)
    // The app is done with the body: whoever still listens (the abandoned body stream) must not hold it back.
    incoming.removeAllListeners('data')
    incoming.on('data', onData)
    incoming.once('end', done)
    incoming.once('close', done)
    incoming.once('error', done)
    incoming.resume()
  })
}
