// Jetway's layer rules, checked by `npm run lint:layers` (part of `npm test`). The layers, bottom
// up, are drawn in docs/architecture.md. Each exception is written into its rule with its reason.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles hide which module owns a concept; type-only imports count too.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'model-is-the-bottom',
      severity: 'error',
      comment: 'src/model is the shared model: it imports nothing of Jetway.',
      from: { path: '^src/model/' },
      to: { path: '^src/', pathNot: '^src/model/' },
    },
    {
      name: 'db-below-its-consumers',
      severity: 'error',
      comment:
        'Storage implements the ports its consumers own; it never imports them. It may read the model and the pipeline config types (src/config), and src/log.ts.',
      from: { path: '^src/db/' },
      to: { path: '^src/(engine|planner|scheduler|checker|gc|api|web|cli|ui|runtime|resources|images|creds|metrics|component)/' },
    },
    {
      name: 'engine-through-its-port',
      severity: 'error',
      comment: 'The engine reaches storage only through src/engine/store.ts (the web node wires the Postgres adapter).',
      from: { path: '^src/engine/' },
      to: { path: '^src/db/' },
    },
    {
      name: 'engine-below-its-callers',
      severity: 'error',
      comment: 'The engine is driven by the scheduler, checker and API through interfaces; it does not call back up.',
      from: { path: '^src/engine/' },
      to: { path: '^src/(api|web|cli|ui|checker|gc|metrics)/' },
    },
    {
      name: 'runtime-below-engine',
      severity: 'error',
      comment: 'Runtimes run containers for whoever asks; they know nothing of builds, storage or the web node.',
      from: { path: '^src/runtime/' },
      to: { path: '^src/(engine|web|api|cli|ui|db|scheduler|checker|gc|planner|creds|metrics)/' },
    },
    {
      name: 'config-and-planner-are-pure',
      severity: 'error',
      comment: 'Parsing, validating and planning pipelines touch no storage, runtime or engine.',
      from: { path: '^src/(config|planner)/' },
      to: { path: '^src/(db|engine|runtime|scheduler|checker|gc|api|web|cli|ui|creds|metrics)/' },
    },
    {
      name: 'resources-and-images-below-the-engine',
      severity: 'error',
      comment: 'The built-in resource types and the registry client are libraries the engine and runtimes use.',
      from: { path: '^src/(resources|images)/' },
      to: { path: '^src/(db|engine|runtime|scheduler|checker|gc|api|web|cli|ui|planner|creds|metrics)/' },
    },
    {
      name: 'components-below-the-api',
      severity: 'error',
      comment: 'The scheduler, checker and collectors are driven by the web node; they never import the API, the web node or the CLI.',
      from: { path: '^src/(scheduler|checker|gc|component)/' },
      to: { path: '^src/(api|web|cli|ui)/' },
    },
    {
      name: 'ui-app-speaks-only-the-wire',
      severity: 'error',
      comment: 'The browser UI knows the server only through the API: its JSON types (src/api/wire.ts) and the SSE parser.',
      from: { path: '^src/ui/app/' },
      to: { path: '^src/', pathNot: '^src/(ui/app/|api/wire[.]ts$|api/sse-parser[.]ts$)' },
    },
    {
      name: 'gc-and-checker-own-their-ports',
      severity: 'error',
      comment: 'Collectors and the checker reach storage through src/gc/store.ts and src/checker/store.ts; only record types and errors come from db/.',
      from: { path: '^src/(gc|checker)/' },
      to: { path: '^src/db/', pathNot: '^src/db/(errors|builds|resources)[.]ts$' },
    },
    {
      name: 'api-below-the-web-node',
      severity: 'error',
      comment: 'The API is mounted by the web node (the composition root) and called by the CLI over HTTP only.',
      from: { path: '^src/api/' },
      to: { path: '^src/(web|cli)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
