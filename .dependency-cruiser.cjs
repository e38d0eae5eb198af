// The dependency direction of ../shared/DESIGN.md, checked by `pnpm lint`:
//   errors ← session ← core ← (db ← storage) ← runtime ← transport ← server;  client ← console.
//   protocol (the wire's zod schemas) sits at the bottom beside errors: runtime (the space event
//   kinds), transport, server and client import it; it imports nothing of ours and no Node built-in (it ships to browsers).
// Workspace packages resolve to their sources (the `@stello-ai/source` condition), so every rule
// is written on real paths: `packages/<name>/`.

/** Test-only code: test files and the `__fixtures__` folders whose helpers only tests import. */
const TEST_CODE = '(\\.test\\.ts$|/__fixtures__/)';

/** The packages a package may import, besides npm modules and itself. */
const ALLOWED = {
  errors: [],
  protocol: [],
  session: ['errors'],
  core: ['errors', 'session'],
  db: ['errors'],
  storage: ['errors', 'session', 'core', 'db'],
  runtime: ['errors', 'protocol', 'session', 'core', 'storage'],
  transport: ['errors', 'protocol', 'session', 'core', 'runtime'],
  server: ['errors', 'protocol', 'session', 'core', 'db', 'storage', 'runtime', 'transport', 'console'],
  // Types only (rule `client-types-only`): the client runs in browsers with nothing of ours.
  client: ['transport', 'protocol'],
  console: ['errors', 'protocol', 'client'],
};
/**
 * What tests may import on top: runtime's tests make pools with db's `createPool`; the client's
 * tests run it against a real server; the server's end-to-end tests drive it with the client.
 */
const ALLOWED_IN_TESTS = { runtime: ['db'], client: ['server'], server: ['client'] };
const PACKAGES = Object.keys(ALLOWED);

const layerRules = PACKAGES.flatMap((name) => {
  const forbiddenOf = (allowed) =>
    PACKAGES.filter((other) => other !== name && !allowed.includes(other)).join('|');
  const comment = `${name} may import only ${ALLOWED[name].join(', ') || 'npm modules'} of the workspace (DESIGN.md)`;
  const testAllowed = [...ALLOWED[name], ...(ALLOWED_IN_TESTS[name] ?? [])];
  return [
    {
      name: `layer-${name}`,
      comment,
      severity: 'error',
      from: { path: `^packages/${name}/`, pathNot: TEST_CODE },
      to: { path: `^packages/(${forbiddenOf(ALLOWED[name])})/` },
    },
    {
      name: `layer-${name}-tests`,
      comment: `${comment}; its tests may also use ${testAllowed.join(', ')}`,
      severity: 'error',
      from: { path: `^packages/${name}/.*${TEST_CODE}` },
      to: { path: `^packages/(${forbiddenOf(testAllowed)})/` },
    },
  ];
});

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-sql-above-storage',
      comment: 'all SQL lives in storage (and db): runtime, transport and the client use no driver',
      severity: 'error',
      from: { path: '^packages/(runtime|transport|client|console)/', pathNot: TEST_CODE },
      to: { path: '(^|/)node_modules/(kysely|pg)/' },
    },
    {
      name: 'no-db-in-runtime',
      comment: 'runtime reaches the database only through storage',
      severity: 'error',
      from: { path: '^packages/runtime/', pathNot: TEST_CODE },
      to: { path: '^packages/db/' },
    },
    {
      name: 'client-types-only',
      comment:
        'the client takes only types from the server side (erased at build): no run-time import of ours',
      severity: 'error',
      from: { path: '^packages/client/', pathNot: TEST_CODE },
      to: { path: '^packages/(transport|protocol)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'browser-client',
      comment:
        'the protocol, the client and the console run in browsers: no Node built-ins (the console build tooling runs in Node)',
      severity: 'error',
      from: {
        path: '^packages/(protocol|client|console)/',
        pathNot: `${TEST_CODE}|^packages/console/(scripts/|vite\\.config\\.ts$)`,
      },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'console-imports-resolve',
      comment:
        'the console bundles the client from its sources (a Vite alias, no package dependency: the server depends on the console); any other import it cannot resolve, such as the server, is an error',
      severity: 'error',
      from: { path: '^packages/console/' },
      to: { couldNotResolve: true, pathNot: '^@stello-ai/client$' },
    },
    {
      name: 'workspace-imports-resolve',
      comment:
        'an import of a workspace package the importer does not declare cannot resolve, so the layer rules could not see it: it is an error (the console has its own rule)',
      severity: 'error',
      from: { pathNot: '^packages/console/' },
      to: { couldNotResolve: true, path: '^@(stello-ai|internal)/' },
    },
    {
      name: 'testing-only-in-tests',
      comment: '@internal/testing is for tests and their fixtures only',
      severity: 'error',
      from: { path: '^packages/', pathNot: TEST_CODE },
      to: { path: '^internal/testing/' },
    },
    {
      name: 'fixtures-only-in-tests',
      comment: "a package's __fixtures__ hold test helpers: only tests and other fixtures import them",
      severity: 'error',
      from: { path: '^packages/', pathNot: TEST_CODE },
      to: { path: '/__fixtures__/' },
    },
    {
      name: 'no-circular',
      comment: 'no import circles, within a package or across packages',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      conditionNames: ['@stello-ai/source', 'import', 'require', 'node', 'default'],
      exportsFields: ['exports'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json'],
    },
  },
};
