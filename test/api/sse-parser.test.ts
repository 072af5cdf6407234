import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser } from '../../src/api/sse-parser.ts';
import { END_MESSAGE, formatEventMessage } from '../../src/api/events.ts';

test('the messages of the build event stream, however the chunks fall', () => {
  const stream =
    formatEventMessage(0, { event: 'log', version: '5.1', data: { payload: 'hi\n' } }) +
    formatEventMessage(1, { event: 'status', version: '1.0', data: { status: 'succeeded' } }) +
    END_MESSAGE;
  for (const size of [1, 2, 7, stream.length]) {
    const p = new SseParser();
    const messages = [];
    for (let i = 0; i < stream.length; i += size) messages.push(...p.push(stream.slice(i, i + size)));
    assert.deepEqual(
      messages.map((m) => [m.event, m.id]),
      [
        ['event', '0'],
        ['event', '1'],
        ['end', undefined],
      ],
      `chunks of ${size}`,
    );
    assert.deepEqual(JSON.parse(messages[0]!.data), { data: { payload: 'hi\n' }, event: 'log', version: '5.1', event_id: '0' });
  }
});

test('SSE framing: CRLF and CR line ends, comments, multi-line data, no space after the colon', () => {
  const p = new SseParser();
  assert.deepEqual(p.push(': keep-alive\r\ndata:a\r\ndata: b\r\n\r'), []);
  assert.deepEqual(p.push('\nevent: x\rid: 9\r\r'), [{ event: 'message', data: 'a\nb' }], 'a final "\\r" may be half a "\\r\\n": it waits');
  assert.deepEqual(p.push('\n'), [{ event: 'x', data: '', id: '9' }]);
  assert.deepEqual(p.push('data: c\n\n'), [
    { event: 'message', data: 'c' },
  ]);
});

/** Every message of the chunks, pushed one after another into one parser. */
function parse(...chunks: string[]) {
  const p = new SseParser();
  return chunks.flatMap((c) => p.push(c));
}

test('a line split anywhere across chunks: in the field name, at the colon, in the value', () => {
  const whole = [{ event: 'event', data: '{"a":1}', id: '12' }];
  assert.deepEqual(parse('i', 'd: 1', '2\nev', 'ent', ':', ' event\nda', 'ta: {"a"', ':1}\n', '\n'), whole);
  assert.deepEqual(parse('id: 12\nevent: event\ndata: {"a":1}\n\n'), whole);
});

test('multi-line data joins its lines with \\n; an empty data line counts', () => {
  assert.deepEqual(parse('data: one\ndata: two\ndata\ndata: three\n\n'), [{ event: 'message', data: 'one\ntwo\n\nthree' }]);
  // only the first space after the colon is dropped
  assert.deepEqual(parse('data:  indented\n\n'), [{ event: 'message', data: ' indented' }]);
});

test('ids belong to their message only; a message without one has none', () => {
  assert.deepEqual(parse('id: 1\ndata: a\n\ndata: b\n\nid: 3\nid: 4\ndata: c\n\n'), [
    { event: 'message', data: 'a', id: '1' },
    { event: 'message', data: 'b' },
    { event: 'message', data: 'c', id: '4' },
  ]);
});

test('comments and heartbeats yield nothing, alone or between fields; unknown fields are ignored', () => {
  assert.deepEqual(parse(': heartbeat\n\n', ':\n\n', '\n\n'), []);
  assert.deepEqual(parse('event: end\n: keep-alive\nretry: 1000\ndata: \n\n'), [{ event: 'end', data: '' }]);
});

test('CRLF, CR and LF line ends, mixed, and a CRLF split between chunks', () => {
  const expected = [
    { event: 'event', data: 'a', id: '1' },
    { event: 'event', data: 'b', id: '2' },
  ];
  assert.deepEqual(parse('id: 1\r\nevent: event\r\ndata: a\r\n\r\nid: 2\revent: event\rdata: b\r\n\n'), expected);
  // a final CR may be the first half of a CRLF: it ends its line only once the next chunk shows it
  assert.deepEqual(parse('data: c\r\r'), []);
  assert.deepEqual(parse('data: c\r\r', 'id: 5\n\n'), [{ event: 'message', data: 'c' }]);
  assert.deepEqual(parse('id: 1\r', '\nevent: event\r', '\ndata: a\r', '\n\r', '\nid: 2\nevent: event\ndata: b\n\n'), expected);
});
