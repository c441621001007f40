// The bench site's public identity, shared by the load generator, the servers and the tenants file (no imports,
// so a server importing it pulls in nothing of the harness).

/** The origin the bench tenant allows, sent as Origin. */
export const BENCH_ORIGIN = 'http://localhost:3999'
export const BENCH_WRITE_KEY = 'pk_bench_site'
