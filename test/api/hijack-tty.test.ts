// The cooked-mode line discipline of hijack sessions that ask for a TTY (src/api/hijack-tty.ts):
// what a stock fly's raw terminal sends (fly/commands/hijack.go puts it in raw mode, fly/pty), what
// the command receives and what the terminal shows, as a TTY with ICANON, ECHO, ICRNL and ONLCR.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineDiscipline, onlcr } from '../../src/api/hijack-tty.ts';

const BS = '\b \b';

for (const [what, chunks, toProcess, echo, eof] of [
  ['Enter (CR) sends the line with LF and echoes CRLF', ['ls -l\r'], 'ls -l\n', 'ls -l\r\n', false],
  ['keystrokes one by one are held until Enter', ['e', 'c', 'h', 'o', ' x', '\r'], 'echo x\n', 'echo x\r\n', false],
  ['a LF (piped input) is a line end too', ['a\nb\n'], 'a\nb\n', 'a\r\nb\r\n', false],
  ['backspace (DEL) erases the last character', ['lz\x7fs\r'], 'ls\n', `lz${BS}s\r\n`, false],
  ['backspace on an empty line does nothing', ['\x7f\x08x\r'], 'x\n', 'x\r\n', false],
  ['backspace erases a whole UTF-8 character', ['é\x7fe\r'], 'e\n', `é${BS}e\r\n`, false],
  ['Ctrl-U erases the line', ['abc\x15ls\r'], 'ls\n', `abc${BS}${BS}${BS}ls\r\n`, false],
  ['Ctrl-U erases one column per UTF-8 character', ['dé\x15\r'], '\n', `dé${BS}${BS}\r\n`, false],
  ['Ctrl-C drops the line and shows ^C', ['sleep 9\x03ls\r'], 'ls\n', 'sleep 9^C\r\nls\r\n', false],
  ['Ctrl-D on an empty line ends stdin; later bytes are dropped', ['exit\r\x04more'], 'exit\n', 'exit\r\n', true],
  ['Ctrl-D after text sends the text without a newline, and stdin stays open', ['ab\x04'], 'ab', 'ab', false],
  ['a control character is echoed as ^X and erased as two columns', ['a\x1b\x7f\r'], 'a\n', 'a^[\b\b  \b\b\r\n', false],
  ['tab is echoed as is', ['a\tb\r'], 'a\tb\n', 'a\tb\r\n', false],
] as const) {
  test(`line discipline: ${what}`, () => {
    const ld = new LineDiscipline();
    let sent = '';
    let shown = '';
    let ended = false;
    for (const chunk of chunks) {
      const r = ld.input(Buffer.from(chunk));
      sent += r.toProcess.toString();
      shown += r.echo.toString();
      ended = r.eof;
    }
    assert.deepEqual({ sent, shown, ended }, { sent: toProcess, shown: echo, ended: eof });
  });
}

test('line discipline: a line longer than 4 KiB is sent as it comes', () => {
  const r = new LineDiscipline().input(Buffer.alloc(5000, 'x'));
  assert.equal(r.toProcess.length, 4096);
  assert.equal(r.echo.length, 5000);
});

for (const [input, want] of [
  ['one\ntwo\n', 'one\r\ntwo\r\n'],
  ['no newline', 'no newline'],
  ['', ''],
  ['already\r\n', 'already\r\r\n'],
] as const) {
  test(`onlcr(${JSON.stringify(input)}) = ${JSON.stringify(want)}`, () => assert.equal(onlcr(Buffer.from(input)).toString(), want));
}
