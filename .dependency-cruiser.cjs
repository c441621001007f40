// The package boundaries of docs/architecture.md, checked by `npm test` (npm run deps): a forbidden import fails with the rule's name.
// Workspace packages resolve through node_modules/@atspark/* to their built dist/, so rules match the package directory.
const OURS = 'schemas|sdk|runtime|ingest|warehouse|processor|backoffice|server'

/** A rule: code under `from` must not import our packages listed in `to`. */
const mayNotImport = (name, comment, from, to) => ({
  name,
  comment,
  severity: 'error',
  from: { path: `^${from}/` },
  to: { path: `^(${to})/` },
})

module.exports = {
  forbidden: [
    mayNotImport('schemas-imports-nothing-of-ours', 'schemas holds shapes only (zod): it imports no package of ours', 'schemas', 'sdk|runtime|ingest|warehouse|processor|backoffice|server'),
    mayNotImport('sdk-imports-only-schemas', 'the browser bundles import schemas (types) and nothing else of ours', 'sdk', 'runtime|ingest|warehouse|processor|backoffice|server'),
    {
      name: 'sdk-imports-schemas-types-only',
      comment: 'the SDK ships no zod: from schemas its bundled code takes types (import type) only (its tests may validate with zod)',
      severity: 'error',
      from: { path: '^sdk/src/', pathNot: '\\.test\\.ts$|/test-support\\.ts$' },
      to: { path: '^schemas/', dependencyTypesNot: ['type-only'] },
    },
    mayNotImport('runtime-imports-only-schemas', 'runtime is what every service shares: it knows no route, table or query of theirs', 'runtime', 'sdk|ingest|warehouse|processor|backoffice|server'),
    mayNotImport('ingest-imports-schemas-runtime', 'the public edge can write events and nothing else: no warehouse, pipeline or back office', 'ingest', 'warehouse|processor|backoffice|server'),
    mayNotImport('warehouse-imports-schemas-runtime', 'the warehouse serves no HTTP and knows no pipeline or back office', 'warehouse', 'sdk|ingest|processor|backoffice|server'),
    mayNotImport('processor-imports-schemas-runtime-warehouse', 'the pipeline serves no analyst and is not the edge', 'processor', 'sdk|ingest|backoffice|server'),
    mayNotImport('backoffice-imports-schemas-runtime-warehouse', 'the back office writes no events: no pipeline, no edge', 'backoffice', 'sdk|ingest|processor|server'),
    {
      name: 'nothing-imports-server',
      comment: 'server composes npm start; nothing imports it (bench reads the demo traffic profiles through its one export)',
      severity: 'error',
      from: { pathNot: '^server/' },
      to: { path: '^server/', pathNot: '^server/dist/demo/traffic-profiles\\.(js|d\\.ts)$' },
    },
    {
      name: 'no-deep-imports-across-packages',
      comment: "another package only through its exports (dist/index, or a named subpath), never its src/ or other files",
      severity: 'error',
      from: { path: `^(${OURS}|test|bench)/` },
      to: {
        path: `^(${OURS})/`,
        pathNot: ['^$1/', `^(${OURS})/dist/index\\.(js|d\\.ts)$`, '^sdk/dist/atspark(-consent)?\\.min\\.js$', '^server/dist/demo/traffic-profiles\\.(js|d\\.ts)$'],
      },
    },
    {
      name: 'imports-resolve',
      comment: 'every import resolves (our packages to their built dist/: run after the build, or rules could not see them)',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-circular',
      comment: 'no cycles, inside a package or across packages',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    // Built files are where cross-package imports land (each package's exports point at dist/); they are not cruised themselves.
    doNotFollow: { path: ['node_modules', '(^|/)dist/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['types', 'import', 'default'], extensions: ['.ts', '.mts', '.js', '.mjs', '.d.ts'] },
    skipAnalysisNotInRules: true,
  },
}
