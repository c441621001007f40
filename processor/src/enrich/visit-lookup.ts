import { EventRow, VISIT_COLUMNS, WAREHOUSE_DATABASE } from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'
import { type StoredVisits, VISIT_LOOKUP_DAYS, type VisitLookup, type VisitValues, visitKey } from './visit-attribution.js'

const TAGS = VISIT_COLUMNS.filter((c) => c !== 'entry_page')

/**
 * Reads the stored values of the given visits, in one query: the first stored event's channel and utm_* (every event
 * of a visit carries them since migration 12), and the first entry_page set. Org, site and session ids go as three
 * lists, so a row may match a (org, site, session) that was not asked; those are dropped here.
 */
export function warehouseVisitLookup(client: ClickHouseClient): VisitLookup {
  return async (keys, { from, to }) => {
    const asked = new Set(keys.map(visitKey))
    const rs = await client.query({
      query: `SELECT toString(org_id), toString(site_id), session_id,
  ${TAGS.map((c) => `toString(argMin(${c}, (ts, toString(event_id))))`).join(',\n  ')},
  toString(argMinIf(entry_page, (ts, toString(event_id)), entry_page != ''))
FROM ${WAREHOUSE_DATABASE}.events
WHERE org_id IN {orgs:Array(String)} AND site_id IN {sites:Array(String)}
  AND ts >= {from:DateTime64(3, 'UTC')} - INTERVAL ${VISIT_LOOKUP_DAYS} DAY AND ts <= {to:DateTime64(3, 'UTC')} + INTERVAL ${VISIT_LOOKUP_DAYS} DAY
  AND session_id IN {sessions:Array(String)}
GROUP BY org_id, site_id, session_id`,
      query_params: {
        orgs: [...new Set(keys.map((k) => k.org_id))],
        sites: [...new Set(keys.map((k) => k.site_id))],
        sessions: [...new Set(keys.map((k) => k.session_id))],
        from,
        to,
      },
      format: 'JSONCompactEachRow',
    })
    const found = new Map<string, VisitValues>()
    for (const [org_id, site_id, session_id, channel, utm_source, utm_medium, utm_campaign, utm_term, utm_content, entry_page] of await rs.json<string[]>()) {
      const key = visitKey({ org_id: org_id as string, site_id: site_id as string, session_id: session_id as string })
      if (!asked.has(key)) continue
      found.set(key, {
        // Rows were validated when written; a channel this version does not know reads as none rather than failing the batch.
        channel: EventRow.shape.channel.safeParse(channel).data ?? '',
        utm_source: utm_source as string,
        utm_medium: utm_medium as string,
        utm_campaign: utm_campaign as string,
        utm_term: utm_term as string,
        utm_content: utm_content as string,
        entry_page: entry_page as string,
      })
    }
    return found
  }
}

/** The visits with events stored from `since` on, for the filter of written visits (one query at start and on rebalance). */
export function warehouseStoredVisits(client: ClickHouseClient): StoredVisits {
  return async (since) => {
    const rs = await client.query({
      query: `SELECT DISTINCT toString(org_id), toString(site_id), session_id FROM ${WAREHOUSE_DATABASE}.events
WHERE session_id != '' AND ts >= {since:DateTime64(3, 'UTC')}`,
      query_params: { since },
      format: 'JSONCompactEachRow',
    })
    return (await rs.json<[string, string, string]>()).map(([org_id, site_id, session_id]) => ({ org_id, site_id, session_id }))
  }
}
