// Loading a pipeline (YAML parse, interpolation, schema, validation) in a worker thread, so that
// the web node answers other requests meanwhile: a config a member sends (`PUT …/config`, up to
// its size limit) or a build's set_pipeline file (up to 10 MiB) must never hold the event loop
// (issue 16, finding 5; docs/security.md "API"). One worker, started on first use and stopped
// when idle; its loads run one after another. A load that runs too long or exhausts the worker's
// memory ends the worker and fails with ConfigLoadAborted.
import { Worker } from 'node:worker_threads';
import type { LoadOptions, LoadResult } from './load.ts';
import type { PipelineConfig } from './schema.ts';

/** The load was given up: the worker ran out of time or memory. The message says which. */
export class ConfigLoadAborted extends Error {}

export interface PipelineLoaderOptions {
  /** the longest one load may take (default 60 s) */
  timeoutMs?: number;
  /** the worker's heap, in MB (default 1024): a config that needs more is refused */
  maxHeapMb?: number;
  /** how long an idle worker is kept (default 30 s) */
  idleMs?: number;
  /**
   * Tests only: cell 0 is the gate (0 = closed), cell 1 is set to 1 when a load has started; the
   * worker waits at a closed gate before each load.
   */
  gate?: SharedArrayBuffer;
}

interface Pending {
  resolve(result: LoadResult<PipelineConfig>): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

type Reply = { id: number; result: LoadResult<PipelineConfig> } | { id: number; error: string };

export class PipelineLoader {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: PipelineLoaderOptions = {}) {}

  /** loadPipeline's result, computed off the event loop. */
  load(text: string, opts: LoadOptions = {}): Promise<LoadResult<PipelineConfig>> {
    const worker = this.start();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const id = this.nextId++;
    const timeoutMs = this.opts.timeoutMs ?? 60_000;
    return new Promise((resolve, reject) => {
      // the loads before this one count against its time too: the worker is busy with them
      const timer = setTimeout(() => this.abort(`validating the pipeline took longer than ${timeoutMs / 1000} s`), timeoutMs * (this.pending.size + 1));
      this.pending.set(id, { resolve, reject, timer });
      worker.postMessage({ id, text, opts });
    });
  }

  /** Stops the worker (loads in progress fail). */
  async close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const worker = this.worker;
    this.fail(new ConfigLoadAborted('the pipeline loader was closed'));
    if (worker) await worker.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = spawnLoadWorker({
      ...(this.opts.gate ? { workerData: { gate: this.opts.gate } } : {}),
      resourceLimits: { maxOldGenerationSizeMb: this.opts.maxHeapMb ?? 1024 },
    });
    // the web node's exit does not wait for it
    worker.unref();
    worker.on('message', (reply: Reply) => this.settle(reply));
    worker.on('error', (err: Error & { code?: string }) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.fail(
        new ConfigLoadAborted(
          err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `validating the pipeline needed more than ${this.opts.maxHeapMb ?? 1024} MB of memory` : `validating the pipeline failed: ${err.message}`,
        ),
      );
    });
    worker.on('exit', () => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.fail(new ConfigLoadAborted('validating the pipeline failed: its worker stopped'));
    });
    this.worker = worker;
    return worker;
  }

  private settle(reply: Reply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    clearTimeout(p.timer);
    if ('error' in reply) p.reject(new Error(reply.error));
    else p.resolve(reply.result);
    if (this.pending.size === 0) {
      this.idleTimer = setTimeout(() => void this.stopIdle(), this.opts.idleMs ?? 30_000);
      this.idleTimer.unref();
    }
  }

  private async stopIdle(): Promise<void> {
    const worker = this.worker;
    if (!worker || this.pending.size > 0) return;
    this.worker = undefined;
    await worker.terminate();
  }

  private abort(reason: string): void {
    const worker = this.worker;
    this.worker = undefined;
    this.fail(new ConfigLoadAborted(reason));
    void worker?.terminate();
  }

  private fail(err: Error): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }
}

/**
 * The worker of src/config/load-worker.ts: from the bundle, its bundled entry (dist/cli/, next to
 * the module running this; src/cli/bundle.ts writes it); from the TypeScript sources, through
 * tsx's loader, registered in the worker itself (the web node may have registered it in its own
 * thread only, as bin/jetway.js does).
 */
function spawnLoadWorker(options: { workerData?: unknown; resourceLimits: { maxOldGenerationSizeMb: number } }): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./config-worker.mjs', import.meta.url), options);
  const entry = new URL('./load-worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { ...options, eval: true, execArgv: [] });
}

/** The web node's loader: one worker for the whole process. */
export const pipelineLoader = new PipelineLoader();
