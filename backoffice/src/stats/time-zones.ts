/**
 * The warehouse engine's own time-zone names (`system.time_zones`), read once: the engine matches names
 * case-sensitively and its tzdata need not equal the runtime's (chDB 3.4 lacks America/Coyhaique, which
 * Node 20's Intl has), so a zone is usable only when both know it, and the engine is asked in its spelling.
 */
export class EngineTimeZones {
  private byLowerCase: Promise<ReadonlyMap<string, string>> | undefined

  constructor(private readonly load: () => Promise<readonly string[]>) {}

  /** The engine's spelling of tz (matched case-insensitively, as IANA names are), or undefined when it has no such zone. */
  async spelling(tz: string): Promise<string | undefined> {
    // Every engine has UTC: the default costs no read.
    if (tz === 'UTC') return tz
    this.byLowerCase ??= this.load().then((names) => new Map(names.map((name) => [name.toLowerCase(), name])))
    try {
      return (await this.byLowerCase).get(tz.toLowerCase())
    } catch (err) {
      // A failed read is not remembered: the next request tries again.
      this.byLowerCase = undefined
      throw err
    }
  }
}

/** The query that lists them. */
export const TIME_ZONES_QUERY = 'SELECT time_zone FROM system.time_zones'
