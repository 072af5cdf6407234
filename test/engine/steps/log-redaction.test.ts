// Redaction of process output across chunk boundaries (issue 16, finding 6; docs/security.md
// "Builds"): a process's stdout arrives in chunks split anywhere (a pipe gives 64 KiB at a time,
// a UTF-8 character may be cut in two), and a secret must be hidden whatever the split. The
// reference is redacting the whole output at once.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { StepContext } from '../../../src/engine/exec.ts';
import type { Container, Runtime } from '../../../src/runtime/runtime.ts';
import { logStream } from '../../../src/engine/steps/deps.ts';
import { Redactor, StreamRedactor } from '../../../src/engine/vars.ts';
import { eventData, harness, logged } from './harness.ts';

const R = '((redacted))';

function redactor(...secrets: string[]): Redactor {
  const r = new Redactor();
  for (const s of secrets) r.add(s);
  return r;
}

/** The stream cut at these byte offsets, written chunk by chunk, then ended. */
function streamed(r: Redactor, bytes: Buffer, cuts: readonly number[]): { out: string; pieces: string[] } {
  const s = new StreamRedactor(r);
  const pieces: string[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    pieces.push(s.write(bytes.subarray(from, cut)));
    from = cut;
  }
  pieces.push(s.end());
  return { out: pieces.join(''), pieces };
}

/** Every way of cutting the bytes once, and twice when `pairs`. */
function splits(length: number, pairs: boolean): number[][] {
  const out: number[][] = [[]];
  for (let i = 1; i < length; i++) {
    out.push([i]);
    if (pairs) for (let j = i + 1; j < length; j++) out.push([i, j]);
  }
  return out;
}

const CASES: { name: string; secrets: string[]; text: string; whole: string }[] = [
  { name: 'one secret', secrets: ['hunter2-secret'], text: 'login with hunter2-secret now\n', whole: `login with ${R} now\n` },
  { name: 'a secret of multi-byte characters', secrets: ['pässwörd-🔑-ключ'], text: 'é pässwörd-🔑-ключ ü', whole: `é ${R} ü` },
  { name: 'overlapping secrets hide their union', secrets: ['abcdef', 'defghi'], text: 'xx abcdefghi yy', whole: `xx ${R} yy` },
  { name: 'a secret inside another is hidden whole', secrets: ['token', 'my-token-value'], text: 'my-token-value, token', whole: `${R}, ${R}` },
  { name: 'touching occurrences are one stretch', secrets: ['s3cr3t'], text: '-s3cr3ts3cr3t-', whole: `-${R}-` },
  { name: 'a repeated-letter secret in a longer run', secrets: ['aaa'], text: 'baaaaab', whole: `b${R}b` },
  { name: 'a secret that begins another', secrets: ['pass', 'password123'], text: 'password123 pass passw', whole: `${R} ${R} ${R}w` },
  { name: 'a secret spanning lines', secrets: ['-----BEGIN KEY-----\nMIIB\n-----END KEY-----'], text: 'key:\n-----BEGIN KEY-----\nMIIB\n-----END KEY-----\nok', whole: `key:\n${R}\nok` },
  { name: 'a prefix of a secret that never completes is shown', secrets: ['secret-value'], text: 'secret-val and secret', whole: 'secret-val and secret' },
];

for (const row of CASES) {
  test(`stream redaction: ${row.name}: the whole output`, () => {
    assert.equal(redactor(...row.secrets).redact(row.text), row.whole);
  });

  test(`stream redaction: ${row.name}: every split at one and two byte offsets gives the whole output's redaction`, () => {
    const r = redactor(...row.secrets);
    const bytes = Buffer.from(row.text, 'utf8');
    for (const cuts of splits(bytes.length, true)) {
      const { out, pieces } = streamed(r, bytes, cuts);
      assert.equal(out, row.whole, `cut at ${cuts.join(', ')}`);
      for (const piece of pieces) assert.ok(!piece.includes('\uFFFD'), `no character is broken at ${cuts.join(', ')}`);
    }
  });
}

test('stream redaction: every split of the secret, byte by byte, shows no part of it', () => {
  const secret = 'pässwörd-🔑-ключ-0123';
  const r = redactor(secret);
  const bytes = Buffer.from(`[${secret}]`, 'utf8');
  // one byte per write: the worst split there is
  const { out } = streamed(
    r,
    bytes,
    Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
  );
  assert.equal(out, `[${R}]`);
});

test('stream redaction: random outputs, secrets and splits give the whole output\'s redaction', () => {
  // a small alphabet makes overlaps, prefixes and repeats common; a fixed seed keeps it repeatable
  let seed = 20261202;
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const alphabet = ['a', 'b', 'c', 'é', '🔑', '\n'];
  const word = (min: number, max: number): string => Array.from({ length: min + next(max - min + 1) }, () => alphabet[next(alphabet.length)]).join('');
  for (let round = 0; round < 400; round++) {
    const r = redactor(...Array.from({ length: 1 + next(3) }, () => word(3, 6)));
    const text = word(0, 40);
    const bytes = Buffer.from(text, 'utf8');
    const cuts = [...new Set(Array.from({ length: next(6) }, () => 1 + next(Math.max(1, bytes.length - 1))))].filter((c) => c < bytes.length).sort((x, y) => x - y);
    assert.equal(streamed(r, bytes, cuts).out, r.redact(text), `secrets ${JSON.stringify(r.known())}, text ${JSON.stringify(text)}, cuts ${cuts.join(',')}`);
  }
});

test('stream redaction: it holds back at most the longest secret minus one character, and only a possible start of one', () => {
  const r = redactor('secret-value', 'pw-123');
  const s = new StreamRedactor(r);
  assert.equal(s.write('plain text, no secret in sight'), 'plain text, no secret in sight', 'nothing is held when no secret can begin');
  assert.equal(s.write('then secret-va'), 'then ', "'secret-va' may begin a secret");
  assert.equal(s.write('lue!'), `${R}!`);
  assert.equal(s.write('x'.repeat(100) + 'secret-valu'), 'x'.repeat(100), 'held: 11 characters, the longest secret (12) minus one');
  assert.equal(s.write('E'), 'secret-valuE', 'not a secret after all');
  assert.equal(s.write('pw-12'), '');
  assert.equal(s.end(), 'pw-12', 'the end flushes what was held');
});

test('stream redaction: a secret learnt in the middle of the stream is hidden from then on', () => {
  const r = redactor('first-secret');
  const s = new StreamRedactor(r);
  assert.equal(s.write('first-secret '), `${R} `);
  r.add('second-secret');
  assert.equal(s.write('second-sec') + s.write('ret.') + s.end(), `${R}.`);
});

test('stream redaction: a 2 MB write full of a secret, in 64 KiB pipe chunks, leaks nothing', () => {
  const secret = 'tok-3b9e1f-from-the-var-source';
  const r = redactor(secret);
  const line = `echo ${secret} again\n`;
  const text = line.repeat(Math.ceil((2 * 1024 * 1024) / line.length));
  const bytes = Buffer.from(text);
  const cuts: number[] = [];
  for (let i = 65536; i < bytes.length; i += 65536) cuts.push(i);
  const started = Date.now();
  const { out, pieces } = streamed(r, bytes, cuts);
  assert.ok(Date.now() - started < 2000, 'fast enough for a build log');
  assert.ok(!out.includes(secret) && !out.includes('tok-3b9e'), 'no secret, no part of one');
  assert.equal(out, r.redact(text));
  assert.equal(out.split(R).length - 1, text.split(secret).length - 1, 'each occurrence redacted once');
  assert.ok(pieces.slice(0, -1).every((p) => p.length > 0), 'each chunk shows its output at once');
});

function stepContext(h: ReturnType<typeof harness>): StepContext {
  return { signal: new AbortController().signal, state: h.state, emit: async (e) => void h.events.push(e) };
}

test('logStream: log events carry the redacted stream; the tail held back comes at end()', (t: TestContext) => {
  const h = harness(t);
  h.deps.redactor.add('hunter2-secret');
  const out = logStream(stepContext(h), h.deps, 'p1', 'stdout');
  out.write(Buffer.from('password: hunter2-se'));
  assert.equal(logged(h.events, 'stdout'), 'password: ', 'the possible start of a secret is held');
  out.write(Buffer.from('cret\ndone hunt'));
  assert.equal(logged(h.events, 'stdout'), `password: ${R}\ndone `);
  out.end();
  assert.equal(logged(h.events, 'stdout'), `password: ${R}\ndone hunt`);
  assert.ok(eventData(h.events, 'log').every((l) => l.payload !== '' && l.origin.id === 'p1'), 'no empty log events');
});

/** The harness's runtime, with every process output written one byte at a time. */
function byteByByte(h: ReturnType<typeof harness>): void {
  const inner = h.deps.runtime;
  const runtime: Runtime = Object.create(inner) as Runtime;
  runtime.createContainer = async (spec, signal) => {
    const container: Container = await inner.createContainer(spec, signal);
    const split: Container = Object.create(container) as Container;
    const bytes = (write: (chunk: Buffer) => void) => (chunk: Buffer) => {
      for (let i = 0; i < chunk.length; i++) write(chunk.subarray(i, i + 1));
    };
    split.run = (process, io, s) => container.run(process, { ...io, stdout: bytes(io.stdout), stderr: bytes(io.stderr) }, s);
    return split;
  };
  h.deps.runtime = runtime;
}

const TOKEN = 'tok-3b9e1f-from-the-var-source';

test('task: a secret in output written one byte at a time is redacted, on stdout and stderr', async (t) => {
  const h = harness(t, { task: () => ({ exitStatus: 0, stdout: `the token is ${TOKEN}\n`, stderr: `warning: ${TOKEN.slice(0, 9)}` }) });
  byteByByte(h);
  h.deps.redactor.add(TOKEN);
  assert.deepEqual(await h.run(h.stepPlan({ task: 't', config: { platform: 'linux', run: { path: 'true' } } })), { ok: true });
  assert.equal(logged(h.events, 'stdout'), `the token is ${R}\n`);
  assert.equal(logged(h.events, 'stderr'), `warning: ${TOKEN.slice(0, 9)}`, 'a start of the secret that never completes is flushed at the end');
});

test('get: a secret in a resource script\'s stderr written one byte at a time is redacted', async (t) => {
  const h = harness(t, {
    pipeline: 'resources:\n- name: r\n  type: mock\n  source: {}\n',
    resource: () => ({ exitStatus: 0, stderr: `fetching with ${TOKEN}\n`, response: { version: { v: '1' } } }),
  });
  byteByByte(h);
  h.deps.redactor.add(TOKEN);
  assert.deepEqual(await h.run(h.stepPlan({ get: 'r' }, { r: { v: '1' } })), { ok: true });
  assert.equal(logged(h.events, 'stderr'), `fetching with ${R}\n`);
});
