import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AnsiParser, stripAnsi } from '../../src/ui/app/ansi.ts';

test('stripAnsi drops escape sequences and control characters', () => {
  const cases: [string, string][] = [
    ['plain\n', 'plain\n'],
    ['\x1b[1mbold\x1b[0m text', 'bold text'],
    ['\x1b[32;1mok\x1b[m', 'ok'],
    ['\x1b[38;5;208morange\x1b[0m', 'orange'],
    ['\x1b[2K\x1b[1Gline', 'line'],
    ['\x1b]0;title\x07after', 'after'],
    ['a\r\nb\r\n', 'a\nb\n'],
    ['10%\r20%\n', '10%\n20%\n'],
    ['bell\x07\ttab', 'bell\ttab'],
  ];
  for (const [input, output] of cases) assert.equal(stripAnsi(input), output, JSON.stringify(input));
});

test('colours become classes and carry across chunks', () => {
  const p = new AnsiParser();
  assert.deepEqual(p.push('\x1b[31mred '), [{ text: 'red ', classes: 'ansi-fg-1' }]);
  assert.deepEqual(p.push('still\x1b[0m plain \x1b[1;92mbright'), [
    { text: 'still', classes: 'ansi-fg-1' },
    { text: ' plain ', classes: '' },
    { text: 'bright', classes: 'ansi-bold ansi-fg-10' },
  ]);
});

test('an escape sequence or a CRLF split between chunks is put back together', () => {
  const p = new AnsiParser();
  assert.deepEqual(p.push('a\x1b['), [{ text: 'a', classes: '' }]);
  assert.deepEqual(p.push('3'), []);
  assert.deepEqual(p.push('4mb\r'), [{ text: 'b', classes: 'ansi-fg-4' }]);
  assert.deepEqual(p.push('\nc'), [{ text: '\nc', classes: 'ansi-fg-4' }]);
});

test('a log cannot smuggle markup: segments are text', () => {
  const p = new AnsiParser();
  assert.deepEqual(p.push('<img src=x onerror=alert(1)>'), [{ text: '<img src=x onerror=alert(1)>', classes: '' }]);
});
