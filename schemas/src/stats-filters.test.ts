import { describe, expect, it } from 'vitest'
import {
  dimensionLevel,
  FILTER_MAX_CLAUSES,
  FILTER_MAX_VALUE_CHARS,
  FILTER_MAX_VALUES,
  type FilterClause,
  FilterSyntaxError,
  formatFilters,
  parseFilters,
  parseGoalRef,
  StatsFilters,
  StatsGoalParam,
} from './stats-filters.js'
import { TenantsConfig } from './tenants.js'

const thrown = (f: () => unknown): FilterSyntaxError => {
  try {
    f()
  } catch (err) {
    if (err instanceof FilterSyntaxError) return err
    throw err
  }
  throw new Error('expected a FilterSyntaxError')
}

describe('parseFilters', () => {
  it('reads clauses, ops and alternatives', () => {
    expect(parseFilters('country==DE|FR;url_path=~pricing;browser!=Safari;name!~test;props.plan==pro;entry_page==/;goal==Signup')).toEqual([
      { dimension: 'country', op: 'is', values: ['DE', 'FR'] },
      { dimension: 'url_path', op: 'contains', values: ['pricing'] },
      { dimension: 'browser', op: 'is_not', values: ['Safari'] },
      { dimension: 'name', op: 'not_contains', values: ['test'] },
      { dimension: 'props.plan', op: 'is', values: ['pro'] },
      { dimension: 'entry_page', op: 'is', values: ['/'] },
      { dimension: 'goal', op: 'is', values: ['Signup'] },
    ])
  })

  it('unescapes \\| \\; and \\\\ and keeps = and ~ inside values', () => {
    expect(parseFilters('url_path==/a\\|b|/c\\;d;name==x\\\\y')).toEqual([
      { dimension: 'url_path', op: 'is', values: ['/a|b', '/c;d'] },
      { dimension: 'name', op: 'is', values: ['x\\y'] },
    ])
    expect(parseFilters('url_path==/q?a==b~c')).toEqual([{ dimension: 'url_path', op: 'is', values: ['/q?a==b~c'] }])
  })

  it('treats empty input and empty clauses as no filter, an empty value as the empty string', () => {
    expect(parseFilters('')).toEqual([])
    expect(parseFilters('country==DE;')).toHaveLength(1)
    expect(parseFilters('referrer_host==')).toEqual([{ dimension: 'referrer_host', op: 'is', values: [''] }])
  })

  it('refuses bad clauses with a message naming the clause', () => {
    expect(thrown(() => parseFilters('country==DE;colour==red')).message).toContain('"colour==red"')
    expect(thrown(() => parseFilters('country=DE')).message).toContain('"country=DE"')
    expect(thrown(() => parseFilters('props.bad key==x')).message).toMatch(/props\.bad key/)
    expect(thrown(() => parseFilters('props.==x')).message).toContain('unknown dimension props.')
    expect(thrown(() => parseFilters(`props.${'k'.repeat(65)}==x`)).message).toContain('prop keys')
    expect(thrown(() => parseFilters('url_path==a\\nb')).message).toContain('backslash')
    expect(thrown(() => parseFilters('url_path=~')).message).toContain('contains needs')
    expect(thrown(() => parseFilters('goal=~Sign')).message).toContain('goal takes == or !=')
    expect(thrown(() => parseFilters('x')).code).toBe('invalid_filter')
  })

  it(`allows exactly ${FILTER_MAX_CLAUSES} clauses, ${FILTER_MAX_VALUES} values and ${FILTER_MAX_VALUE_CHARS} characters, and one more of none`, () => {
    const clauses = (n: number) => Array.from({ length: n }, () => 'country==DE').join(';')
    expect(parseFilters(clauses(FILTER_MAX_CLAUSES))).toHaveLength(FILTER_MAX_CLAUSES)
    expect(thrown(() => parseFilters(clauses(FILTER_MAX_CLAUSES + 1))).message).toContain(`at most ${FILTER_MAX_CLAUSES}`)
    const values = (n: number) => `name==${Array.from({ length: n }, (_, i) => `v${i}`).join('|')}`
    expect(parseFilters(values(FILTER_MAX_VALUES))[0]?.values).toHaveLength(FILTER_MAX_VALUES)
    expect(thrown(() => parseFilters(values(FILTER_MAX_VALUES + 1))).message).toContain(`at most ${FILTER_MAX_VALUES} values`)
    expect(parseFilters(`name==${'a'.repeat(FILTER_MAX_VALUE_CHARS)}`)[0]?.values[0]).toHaveLength(FILTER_MAX_VALUE_CHARS)
    expect(thrown(() => parseFilters(`name==${'a'.repeat(FILTER_MAX_VALUE_CHARS + 1)}`)).message).toContain(`${FILTER_MAX_VALUE_CHARS} characters`)
  })

  it('formats back what it parses, for random values full of separators (seeded)', () => {
    let seed = 15
    const rnd = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed / 2 ** 31
    }
    const alphabet = ['a', 'Z', '/', '|', ';', '\\', '=', '~', '!', ' ', 'é', '*']
    const dims = ['url_path', 'country', 'props.plan', 'utm_source', 'exit_page', 'name']
    const ops = ['is', 'is_not', 'contains', 'not_contains'] as const
    for (let n = 0; n < 300; n++) {
      const clauses: FilterClause[] = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => {
        const values = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join(''))
        return { dimension: dims[Math.floor(rnd() * dims.length)] as FilterClause['dimension'], op: ops[Math.floor(rnd() * ops.length)] as FilterClause['op'], values: [...new Set(values)] }
      })
      expect(parseFilters(formatFilters(clauses))).toEqual(clauses)
    }
  })

  it('knows which dimensions are event- and visit-level', () => {
    expect(['url_path', 'type', 'name'].map(dimensionLevel)).toEqual(['event', 'event', 'event'])
    expect(['entry_page', 'exit_page', 'channel', 'utm_campaign'].map(dimensionLevel)).toEqual(['visit', 'visit', 'visit', 'visit'])
    expect([dimensionLevel('props.a.b-c_1'), dimensionLevel('goal'), dimensionLevel('anon_id')]).toEqual(['prop', 'goal', undefined])
  })
})

describe('the filters and goal parameters', () => {
  it('parse to clauses with the text kept, and report bad ones coded invalid_filter', () => {
    expect(StatsFilters.parse('country==DE')).toEqual({ text: 'country==DE', clauses: [{ dimension: 'country', op: 'is', values: ['DE'] }] })
    expect(StatsFilters.parse(undefined)).toBeUndefined()
    expect(StatsFilters.parse(';')).toBeUndefined()
    const bad = StatsFilters.safeParse('nope==1')
    expect(bad.success).toBe(false)
    expect(bad.error?.issues[0]).toMatchObject({ code: 'custom', params: { code: 'invalid_filter' } })
    expect(bad.error?.issues[0]?.message).toContain('nope==1')
  })

  it('reads inline goals and refuses an empty event or a page not starting with /', () => {
    expect(parseGoalRef('event:signup')).toEqual({ kind: 'event', match: 'signup' })
    expect(parseGoalRef('page:/pricing*')).toEqual({ kind: 'page', match: '/pricing*' })
    expect(parseGoalRef('Signup')).toEqual({ kind: 'named', name: 'Signup' })
    expect(StatsGoalParam.safeParse('event:').success).toBe(false)
    expect(StatsGoalParam.safeParse('page:pricing').success).toBe(false)
    expect(StatsGoalParam.safeParse('page:/pricing/**').success).toBe(true)
  })
})

describe('site goals in the tenants file', () => {
  const config = (goals: unknown) => ({
    orgs: [{ id: 'o', name: 'O', sites: [{ id: 'web', write_key: 'pk_abc', allowed_origins: ['https://x.example'], consent_mode: 'opt-in', goals }] }],
  })
  it('defaults to none and takes event and page goals', () => {
    expect(TenantsConfig.parse(config(undefined)).orgs[0]?.sites[0]?.goals).toEqual([])
    const goals = [
      { name: 'Signup', event: 'signup' },
      { name: 'Pricing', page: '/pricing*' },
    ]
    expect(TenantsConfig.parse(config(goals)).orgs[0]?.sites[0]?.goals).toEqual(goals)
  })
  it('refuses duplicate names, both kinds at once, a colon in a name and a page without /', () => {
    expect(TenantsConfig.safeParse(config([{ name: 'A', event: 'a' }, { name: 'A', page: '/a' }])).success).toBe(false)
    expect(TenantsConfig.safeParse(config([{ name: 'A', event: 'a', page: '/a' }])).success).toBe(false)
    expect(TenantsConfig.safeParse(config([{ name: 'event:a', event: 'a' }])).success).toBe(false)
    expect(TenantsConfig.safeParse(config([{ name: 'A', page: 'a' }])).success).toBe(false)
  })
})
