import { parseGoalRef, type SiteConfig, StatsErrorCode } from '@atspark/schemas'
import { StatsRequestError } from './request-error.js'

/** Goals: a site's configured ones (tenants file) or inline `event:<name>` / `page:<pattern>`, compiled to an event predicate. */

export interface ResolvedGoal {
  name: string
  kind: 'event' | 'page'
  match: string
}

/** The site's goals as the API describes them. */
export function siteGoals(site: Pick<SiteConfig, 'goals'>): ResolvedGoal[] {
  return (site.goals ?? []).map((g) => ('event' in g ? { name: g.name, kind: 'event', match: g.event } : { name: g.name, kind: 'page', match: g.page }))
}

/** A goal as a request names it; an unknown name is a 400 naming `param`. */
export function resolveGoal(text: string, site: Pick<SiteConfig, 'goals'>, param = 'goal', code: StatsErrorCode = StatsErrorCode.invalidRequest): ResolvedGoal {
  const ref = parseGoalRef(text)
  if (ref.kind !== 'named') return { name: text, kind: ref.kind, match: ref.match }
  const found = siteGoals(site).find((g) => g.name === ref.name)
  if (!found) {
    const names = siteGoals(site).map((g) => g.name)
    const known = names.length === 0 ? 'this site has no configured goals' : `configured: ${names.join(', ')}`
    throw new StatsRequestError(`unknown goal ${JSON.stringify(ref.name)} (${known}; or event:<name> / page:<pattern>)`, code, param)
  }
  return found
}

/** A page pattern as an anchored RE2 regex: `**` any characters, `*` any characters but `/`, everything else literal. */
export function pagePatternRegex(pattern: string): string {
  let out = '^'
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string
    if (ch === '*' && pattern[i + 1] === '*') {
      out += '.*'
      i++
    } else if (ch === '*') out += '[^/]*'
    else out += /[\\^$.|?+()[\]{}]/.test(ch) ? `\\${ch}` : ch
  }
  return `${out}$`
}

/** The events completing a goal; the value travels as parameter `param`. */
export function goalPredicate(goal: ResolvedGoal, param: string): { sql: string; params: Record<string, string> } {
  if (goal.kind === 'event') return { sql: `name = {${param}:String}`, params: { [param]: goal.match } }
  return { sql: `(type = 'pageview' AND match(url_path, {${param}:String}))`, params: { [param]: pagePatternRegex(goal.match) } }
}
