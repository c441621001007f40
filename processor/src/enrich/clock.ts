/**
 * Moves a client timestamp onto the server clock: the offset between the client's `sentAt`
 * and our `receivedAt` is the client's skew (plus transit time), so adding it cancels the skew.
 */
export function correctTimestamp(ts: number, sentAt: number, receivedAt: number): number {
  const corrected = ts + (receivedAt - sentAt)
  // Nothing can have happened after we received it; a lying or buggy client must not write into the future.
  return Math.min(corrected, receivedAt)
}
