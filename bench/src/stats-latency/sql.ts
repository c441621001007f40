/** SQL fragments for generating data with ClickHouse functions: deterministic hashes, not rand(), so a visitor keeps its attributes. */

/** A uniform in [0, 1) from a hash of the keys and a salt (the salt tells a key's draws apart). */
export const u = (keys: string, salt: number): string => `(cityHash64(${keys}, ${salt}) % 1000003) / 1000003`

/** The 1-based index a uniform picks from a weighted list passed as `{name_c:Array(Float64)}` (see weighted.ts). */
export const pickIndex = (name: string, uniform: string): string => `arrayFirstIndex(c -> c > ${uniform}, {${name}_c:Array(Float64)})`

/** The value a uniform picks from a weighted list passed as `{name_v:Array(type)}` and `{name_c:…}`. */
export const pick = (name: string, type: string, uniform: string): string => `{${name}_v:Array(${type})}[${pickIndex(name, uniform)}]`

/** A Zipf rank (s = 1) in [1, n]: rank 1 about 10 % of draws, the top tenth about two thirds, a long tail behind. */
export const zipf = (n: number, uniform: string): string => `toString(toUInt32(floor(exp(${uniform} * log(${n + 1})))))`

/** One of a few literal strings, chosen uniformly by a hash. */
export const oneOf = (values: readonly string[], keys: string, salt: number): string =>
  `[${values.map((v) => `'${v.replace(/'/g, "\\'")}'`).join(', ')}][1 + cityHash64(${keys}, ${salt}) % ${values.length}]`
