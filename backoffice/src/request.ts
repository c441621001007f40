import { clientIp, socketAddress, type TrustFn } from '@atspark/runtime'
import type { Context } from 'hono'

/** What the privacy and shares APIs read from a request, the same way: its JSON body and the caller's address. */

/** A body or parameter the caller is to blame for: each API answers it 400 invalid_request with this message. */
export class BadRequest extends Error {}

/** The body as JSON, refused unless declared application/json; `shape` shows the caller what to send. */
export async function jsonBody(c: Context, shape: string): Promise<unknown> {
  const type = c.req.header('content-type') ?? ''
  if (!type.toLowerCase().startsWith('application/json')) throw new BadRequest(`body must be application/json: ${shape}`)
  try {
    return await c.req.json()
  } catch {
    throw new BadRequest('body is not valid JSON')
  }
}

/** The caller's address per the trusted-proxy rules; '' under app.request() without a socket. */
export function requestAddress(c: Context, trust: TrustFn): string {
  return clientIp(socketAddress(c), c.req.header('x-forwarded-for'), trust)
}

/** The token of an `Authorization: Bearer <token>` header; undefined for any other. */
export function bearerToken(header: string | undefined): string | undefined {
  return header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1]
}
