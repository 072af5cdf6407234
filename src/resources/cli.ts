// The resource protocol entry point: `cli.ts <type> <check|in|out> [dir]`.
//
// Reads one JSON request on stdin ({source, version?, params?}), writes the JSON response on
// stdout and logs on stderr. A failure exits 1 with a readable message on stderr (the stack too
// when JETWAY_DEBUG is set); bad usage exits 2. The process environment is the context's env
// (BUILD_* variables, MIRRORED_VERSION). Two more variables steer it:
//   JETWAY_RESOURCE_PRIVILEGED=true   the step runs privileged
//   JETWAY_RESOURCE_NOW=<RFC3339>     a fixed clock (for tests)
import { resolve } from 'node:path';
import { isObject, toVersion } from './fields.ts';
import { builtinResourceTypes } from './index.ts';
import { ResourceError, type JsonObject, type ResourceContext, type ResourceResult } from './protocol.ts';
import type { Version } from '../model/version.ts';

class UsageError extends Error {}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function objectField(req: JsonObject, key: string): JsonObject | undefined {
  const v = req[key];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new ResourceError(`invalid payload: "${key}" must be an object`);
  return v;
}

async function main(argv: string[]): Promise<void> {
  const [type, script, dirArg] = argv;
  if (!type || !script) throw new UsageError('usage: cli.ts <type> <check|in|out> [dir]');
  const impl = builtinResourceTypes[type];
  if (!impl) throw new UsageError(`unknown resource type '${type}' (known: ${Object.keys(builtinResourceTypes).sort().join(', ')})`);
  if (script !== 'check' && script !== 'in' && script !== 'out') throw new UsageError(`unknown script '${script}': expected check, in or out`);
  if (script !== 'check' && !dirArg) throw new UsageError(`${script}: ${script === 'in' ? 'destination' : 'source'} directory not specified`);

  const text = await readStdin();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ResourceError(`invalid payload: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isObject(parsed)) throw new ResourceError('invalid payload: expected a JSON object');
  const source = objectField(parsed, 'source') ?? {};
  const params = objectField(parsed, 'params');
  const rawVersion = objectField(parsed, 'version');
  const version: Version | undefined = rawVersion ? toVersion(rawVersion) : undefined;

  const controller = new AbortController();
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      process.stderr.write(`interrupted (${sig})\n`);
      controller.abort();
      setTimeout(() => process.exit(130), 2000).unref();
    });
  }
  const fixedNow = process.env.JETWAY_RESOURCE_NOW;
  let now: (() => Date) | undefined;
  if (fixedNow) {
    const ms = Date.parse(fixedNow);
    if (Number.isNaN(ms)) throw new UsageError(`invalid JETWAY_RESOURCE_NOW: ${fixedNow}`);
    now = () => new Date(ms);
  }
  const ctx: ResourceContext = {
    env: { ...process.env },
    stderr: process.stderr,
    signal: controller.signal,
    privileged: process.env.JETWAY_RESOURCE_PRIVILEGED === 'true',
    ...(now ? { now } : {}),
  };

  let response: Version[] | ResourceResult;
  if (script === 'check') {
    response = await impl.check({ source, ...(version ? { version } : {}) }, ctx);
  } else if (script === 'in') {
    if (!version) throw new ResourceError('invalid payload: missing version');
    response = await impl.in({ source, version, ...(params ? { params } : {}) }, resolve(dirArg ?? '.'), ctx);
  } else {
    response = await impl.out({ source, ...(params ? { params } : {}) }, resolve(dirArg ?? '.'), ctx);
  }
  process.stdout.write(`${JSON.stringify(response)}\n`);
}

main(process.argv.slice(2)).then(
  () => {
    process.exitCode = 0;
  },
  (err: unknown) => {
    const debug = Boolean(process.env.JETWAY_DEBUG);
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`${debug && err instanceof Error && err.stack ? err.stack : message}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
