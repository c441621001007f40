// Two builds from one source: the <script> tag bundle (IIFE, global `atspark`) and an ESM build for bundlers.
import terser from '@rollup/plugin-terser'
import typescript from '@rollup/plugin-typescript'

// Types are emitted by `tsc -p tsconfig.build.json --emitDeclarationOnly`; rollup only transpiles.
const ts = (target = 'ES2019') =>
  typescript({
    tsconfig: './tsconfig.build.json',
    compilerOptions: { target, module: 'ESNext', moduleResolution: 'Bundler', declaration: false, sourceMap: false },
  })

export default [
  {
    input: 'src/iife.ts',
    output: {
      file: 'dist/atspark.min.js',
      format: 'iife',
      // Sloppy-mode safe (transpiled TS assigns no undeclared names); saves the "use strict" bytes.
      strict: false,
      plugins: [
        terser({
          ecma: 2021,
          toplevel: true,
          compress: { passes: 5, unsafe_arrows: true, pure_getters: true },
          format: { comments: false },
        }),
      ],
    },
    // ES2021 (?., ??, ||=) is native since Chrome 85, Firefox 79, Safari 14; down-levelling it costs bytes.
    plugins: [ts('ES2021')],
  },
  {
    // The optional consent banner and preference center, a second <script> beside the core.
    input: 'src/consent-ui/index.ts',
    output: {
      file: 'dist/atspark-consent.min.js',
      format: 'iife',
      strict: false,
      plugins: [terser({ ecma: 2019, compress: { passes: 3, unsafe_arrows: true, pure_getters: true }, format: { comments: false } })],
    },
    plugins: [ts()],
  },
  {
    input: 'src/index.ts',
    output: { file: 'dist/index.js', format: 'es' },
    plugins: [ts()],
  },
]
