// The worker thread's side of PipelineLoader (src/config/off-thread.ts): loads each pipeline it is
// sent with loadPipeline and posts the result back. With a gate (tests only), it marks each load
// as started and waits until the gate opens, so that a test can see the web node answer other
// requests while a load is in progress.
import { parentPort, workerData } from 'node:worker_threads';
import { loadPipeline, type LoadOptions } from './load.ts';

interface Request {
  id: number;
  text: string;
  opts: LoadOptions;
}

const gate = (workerData as { gate?: SharedArrayBuffer } | undefined)?.gate;

parentPort?.on('message', (req: Request) => {
  if (gate) {
    const cells = new Int32Array(gate);
    Atomics.store(cells, 1, 1); // started
    while (Atomics.load(cells, 0) === 0) Atomics.wait(cells, 0, 0, 1_000);
  }
  try {
    parentPort?.postMessage({ id: req.id, result: loadPipeline(req.text, req.opts) });
  } catch (err) {
    parentPort?.postMessage({ id: req.id, error: err instanceof Error ? err.message : String(err) });
  }
});
