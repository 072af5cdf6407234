// Imported first by run.ts: the in-process test infrastructure some benchmarks use (test
// databases, clusters, nodes) creates its loggers when loaded, at info unless told otherwise.
process.env.JETWAY_LOG_LEVEL ??= 'warn';
