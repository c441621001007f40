import { z } from 'zod'

/** Epoch milliseconds; bounded to 2000-01-01 … 2100-01-01 so garbage clocks fail validation. */
export const EpochMs = z.number().int().min(946_684_800_000).max(4_102_444_800_000)
