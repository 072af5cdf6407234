// stalled_streams_rss_mb: the resident memory of a real `jetway web` while four clients hold a
// build's event stream open and never read it, on a build with a 100 MB log (issue 16, finding 5:
// before backpressure it grew from ~100 MB to ~1 GB; goal under 250 MB). The peak RSS of the
// window is the figure; each client's answer is checked to be the stream (200), so a refused
// request cannot pass for a small figure.
import { connect, type Socket } from 'node:net';
import { createOneOffBuild } from '../src/db/builds.ts';
import { median, type BenchContext, type BenchResult } from './harness.ts';
import { rssMb, startWeb, type WebProcess } from './web-node.ts';

const CLIENTS = 4;
const EVENT_BYTES = 10 * 1024;
const EVENTS = 10_000; // × 10 KiB: a 100 MB log

/** A client that sends the request and never reads the answer. */
async function stalledClient(web: WebProcess, buildId: number): Promise<Socket> {
  const url = new URL(web.url);
  const socket = connect({ host: url.hostname, port: Number(url.port) });
  socket.pause();
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(`GET /api/v1/builds/${buildId}/events HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer ${web.token}\r\n\r\n`);
  return socket;
}

/** The first bytes the client was sent (read now, after the window): the stream's status line. */
function statusLine(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('(nothing within 10 s)'), 10_000);
    socket.once('data', (chunk: Buffer) => {
      clearTimeout(timer);
      resolve(chunk.toString('latin1').split('\r\n')[0] ?? '');
    });
    socket.resume();
  });
}

export async function benchStalledStreams(ctx: BenchContext): Promise<BenchResult> {
  const runs = ctx.quick ? 1 : 3;
  const windowMs = ctx.quick ? 8_000 : 15_000;
  const peaks: number[] = [];
  const idle: number[] = [];
  for (let run = 0; run < runs; run++) {
    const db = await ctx.freshDatabase();
    ctx.progress(`run ${run + 1}/${runs}: writing a 100 MB build log`);
    const team = await db.query<{ id: number }>(`SELECT id FROM teams WHERE name = 'main'`);
    const build = await createOneOffBuild(db, team.rows[0]!.id, { id: '1', do: [] });
    for (let from = 1; from <= EVENTS; from += 1_000) {
      await db.query(
        `INSERT INTO build_events (build_id, event_id, type, version, payload)
         SELECT $1, g, 'log', '5.1', jsonb_build_object('origin', jsonb_build_object('id', '1'), 'payload', repeat('x', $2), 'time', 0)
           FROM generate_series($3::int, $4::int) AS g`,
        [build.id, EVENT_BYTES, from, Math.min(EVENTS, from + 999)],
      );
    }
    const web = await startWeb(db);
    const clients: Socket[] = [];
    try {
      await new Promise((r) => setTimeout(r, 2_000));
      idle.push(rssMb(web.child.pid!));
      ctx.progress(`run ${run + 1}/${runs}: ${CLIENTS} stalled clients for ${windowMs / 1000} s`);
      for (let i = 0; i < CLIENTS; i++) clients.push(await stalledClient(web, build.id));
      let peak = 0;
      for (const end = Date.now() + windowMs; Date.now() < end; ) {
        peak = Math.max(peak, rssMb(web.child.pid!));
        await new Promise((r) => setTimeout(r, 200));
      }
      peaks.push(peak);
      const lines = await Promise.all(clients.map(statusLine));
      const refused = lines.filter((l) => !/^HTTP\/1\.1 200\b/.test(l));
      if (refused.length > 0) throw new Error(`stalled_streams_rss_mb: a client was not streamed the build's events: ${refused.join('; ')}`);
    } finally {
      for (const c of clients) c.destroy();
      await web.stop();
    }
  }
  return {
    key: 'stalled_streams_rss_mb',
    title: `peak resident memory of a web node while ${CLIENTS} clients never read a build's event stream, 100 MB log (median of ${runs} runs of ${windowMs / 1000} s; goal under 250 MB)`,
    value: median(peaks),
    unit: 'MB',
    samples: peaks,
    extra: { stalled_streams_idle_rss_mb: median(idle) },
  };
}
