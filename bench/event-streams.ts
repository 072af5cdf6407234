// event_stream_p99_ms (issue 23): 200 clients following running builds' event streams
// (GET /api/v1/builds/:id/events on a real `jetway web`) while each build writes 1,000 log lines a
// second, the way the engine writes them (src/db/builds.ts saveBuildEvent: one event per output
// chunk, here a chunk of 10 lines every 10 ms). Each chunk carries the time it was written; the
// figure is the p99 of write → delivery over every line every client received. Goal: under
// 500 ms, the node's memory bounded (its peak RSS is reported).
// The builds are `started` rows owned by a made-up node holding a lease, so the node under test
// neither runs nor takes them over; the writers run in the benchmark's process, on their own pool.
import { request, type IncomingMessage } from 'node:http';
import { saveBuildEvent } from '../src/db/builds.ts';
import type { Database } from '../src/db/database.ts';
import { percentile, type BenchContext, type BenchResult } from './harness.ts';
import { rssMb, startWeb, type WebProcess } from './web-node.ts';

const FOLLOWERS = 200;
const LINES_PER_SECOND = 1_000;
const CHUNK_MS = 10;
const LINES_PER_CHUNK = (LINES_PER_SECOND * CHUNK_MS) / 1000;
const LINE = 'x'.repeat(60);

async function runningBuilds(db: Database, count: number): Promise<number[]> {
  const r = await db.query<{ id: number }>(
    `INSERT INTO builds (name, team_id, status, scheduled, start_time, owner_node, lease_until)
     SELECT g::text, (SELECT id FROM teams WHERE name = 'main'), 'started', true, now(), 'bench-writer', now() + interval '1 hour'
       FROM generate_series(1, $1::int) g RETURNING id`,
    [count],
  );
  return r.rows.map((row) => row.id);
}

/** Follows a build's stream; every delivered chunk's delay (ms) goes to `delays` once `counting()`. */
function follow(web: WebProcess, buildId: number, delays: number[], counting: () => boolean): { close(): void; done: Promise<void>; lines: () => number } {
  const url = new URL(web.url);
  let res: IncomingMessage | undefined;
  let lines = 0;
  const req = request({ host: url.hostname, port: url.port, path: `/api/v1/builds/${buildId}/events`, headers: { authorization: `Bearer ${web.token}` } });
  const done = new Promise<void>((resolve, reject) => {
    req.on('response', (r) => {
      res = r;
      if (r.statusCode !== 200) reject(new Error(`event stream of build ${buildId}: ${r.statusCode}`));
      let buffer = '';
      r.setEncoding('utf8');
      r.on('data', (chunk: string) => {
        const now = performance.timeOrigin + performance.now();
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^data: (.*)$/m.exec(message)?.[1];
          if (!data) continue;
          const payload = (JSON.parse(data) as { data?: { payload?: string } }).data?.payload;
          const written = Number(/^@([\d.]+) /.exec(payload ?? '')?.[1]);
          if (!Number.isFinite(written)) continue;
          lines += LINES_PER_CHUNK;
          if (counting()) delays.push(now - written);
        }
      });
      r.on('end', resolve);
      r.on('error', resolve);
    });
    req.on('error', (err) => (res ? resolve() : reject(err)));
  });
  req.end();
  return { close: () => req.destroy(), done, lines: () => lines };
}

export async function benchEventStreams(ctx: BenchContext): Promise<BenchResult> {
  const builds = ctx.quick ? 5 : 10;
  const windowMs = ctx.quick ? 8_000 : 20_000;
  const warmMs = 2_000;
  const db = await ctx.freshDatabase();
  const web = await startWeb(db);
  const ids = await runningBuilds(db, builds);
  const delays: number[] = [];
  let counting = false;
  let writing = true;
  let written = 0;
  const followers: ReturnType<typeof follow>[] = [];
  try {
    const idle = rssMb(web.child.pid!);
    ctx.progress(`${FOLLOWERS} clients following ${builds} builds, each writing ${LINES_PER_SECOND} lines/s, for ${windowMs / 1000} s`);
    for (let i = 0; i < FOLLOWERS; i++) followers.push(follow(web, ids[i % ids.length]!, delays, () => counting));
    // writers: one chunk every CHUNK_MS per build, in order (an engine writes a build's events one after another)
    const writers = ids.map(async (id) => {
      let n = 0;
      let due = performance.now();
      while (writing) {
        const stamp = performance.timeOrigin + performance.now();
        const text = Array.from({ length: LINES_PER_CHUNK }, (_, k) => `${k === 0 ? `@${stamp} ` : ''}line ${n++} ${LINE}\n`).join('');
        await saveBuildEvent(db, id, { event: 'log', version: '5.1', data: { origin: { id: 'task' }, payload: text, time: Math.floor(Date.now() / 1000) } } as never);
        written += LINES_PER_CHUNK;
        due += CHUNK_MS;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    });
    await new Promise((r) => setTimeout(r, warmMs));
    counting = true;
    const writtenAtStart = written;
    const started = performance.now();
    let peak = 0;
    while (performance.now() - started < windowMs) {
      peak = Math.max(peak, rssMb(web.child.pid!));
      await new Promise((r) => setTimeout(r, 200));
    }
    const seconds = (performance.now() - started) / 1000;
    const writeRate = Math.round((written - writtenAtStart) / seconds / builds);
    counting = false;
    writing = false;
    await Promise.all(writers);
    const received = followers.reduce((a, f) => a + f.lines(), 0);
    if (delays.length === 0) throw new Error('event_stream_p99_ms: no client received a line');
    const value = percentile(delays, 99);
    return {
      key: 'event_stream_p99_ms',
      title: `${FOLLOWERS} clients following ${builds} running builds' event streams, each build writing ${LINES_PER_SECOND} lines/s in chunks of ${LINES_PER_CHUNK} (goal: p99 write → delivery under 500 ms, memory bounded)`,
      value,
      unit: 'ms',
      extra: {
        event_stream: {
          p50_ms: percentile(delays, 50),
          p99_ms: value,
          max_ms: Math.round(delays.reduce((a, b) => Math.max(a, b), 0)),
          lines_written_per_build_per_s: writeRate,
          lines_delivered: received,
          peak_rss_mb: peak,
          idle_rss_mb: idle,
          builds,
          followers: FOLLOWERS,
        },
      },
    };
  } finally {
    writing = false;
    for (const f of followers) f.close();
    await web.stop();
  }
}
