import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser } from '../../src/ui/app/sse.ts';
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
