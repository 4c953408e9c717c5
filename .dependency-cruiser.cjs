/**
 * The architecture check (DESIGN.md, "Shape of the code"): imports in server/ only run down
 * from the handlers to the protocol services to the shared floor. Run by
 * test/architecture/dependencies.test.ts as part of the test suite, or by hand with
 * `npm run architecture`. Paths are relative to the directory cruised from (the repository, or
 * a fixture tree in the tests), so every rule is anchored at `server/`.
 */
const composition = '^server/(http/|app\\.ts$|runtime\\.ts$|main\\.ts$)';

module.exports = {
  forbidden: [
    {
      name: 'koa-only-in-handlers',
      comment: 'Koa (and @koa/*) stops at the handlers: only server/http/ and the composition root (app.ts, runtime.ts, main.ts) may import it.',
      severity: 'error',
      from: { path: '^server/', pathNot: composition },
      // Type-only imports resolve to the @types packages (@types/koa, @types/koa__router).
      to: { path: '(^|/)node_modules/(koa|@koa/[^/]+|@types/koa|@types/koa__[^/]+)/' },
    },
    {
      name: 'no-upward-imports',
      comment: 'Nothing below the handlers imports server/http/ or the composition root (app.ts, runtime.ts).',
      severity: 'error',
      from: { path: '^server/(oauth|uma|federation|smart|authzen|policy|store|protocol|sessions|throttle|keys|crypto|config|views)/' },
      to: { path: '^server/(http/|app\\.ts$|runtime\\.ts$)' },
    },
    {
      name: 'no-cycles',
      comment: 'No import cycle in server/, type-only imports included (tsPreCompilationDeps).',
      severity: 'error',
      from: { path: '^server/' },
      to: { path: '^server/', circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // `import type` edges count: a cycle through types is still a cycle of the modules' meaning.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: `${__dirname}/tsconfig.json` },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
