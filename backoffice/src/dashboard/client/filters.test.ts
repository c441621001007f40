import { describe, expect, it } from 'vitest'
import { activeValue, filterLabel, formatFilters, parseFilters, withFilter, withoutFilter } from './filters.js'

describe('filters in the API’s syntax', () => {
  it('parses clauses, operators, alternatives and escapes', () => {
    expect(parseFilters('country==DE|FR;url_path!=/a\\|b;name=~sign\\;up;props.plan!~free\\\\x')).toEqual([
      { dimension: 'country', op: '==', values: ['DE', 'FR'] },
      { dimension: 'url_path', op: '!=', values: ['/a|b'] },
      { dimension: 'name', op: '=~', values: ['sign;up'] },
      { dimension: 'props.plan', op: '!~', values: ['free\\x'] },
    ])
  })

  it('formats what it parses, escaping separators inside values', () => {
    const filters = [
      { dimension: 'url_path', op: '==' as const, values: ['/a|b', '/c;d'] },
      { dimension: 'utm_campaign', op: '=~' as const, values: ['x\\y'] },
    ]
    expect(formatFilters(filters)).toBe('url_path==/a\\|b|/c\\;d;utm_campaign=~x\\\\y')
    expect(parseFilters(formatFilters(filters))).toEqual(filters)
  })

  it('a row click replaces an "is" on the same dimension and keeps the rest', () => {
    const start = parseFilters('country==DE;url_path!=/x')
    const next = withFilter(start, 'country', 'FR')
    expect(formatFilters(next)).toBe('url_path!=/x;country==FR')
    expect(activeValue(next, 'country')).toBe('FR')
    expect(formatFilters(withoutFilter(next, 0))).toBe('country==FR')
  })

  it('labels a chip in words', () => {
    expect(filterLabel(parseFilters('country==DE|FR')[0]!)).toBe('Country is DE or FR')
    expect(filterLabel(parseFilters('entry_page!~/blog')[0]!)).toBe('Entry page does not contain /blog')
    expect(filterLabel(parseFilters('props.plan==pro')[0]!)).toBe('Property plan is pro')
  })
})
