import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';

import { LineReader } from '../src/io/line-reader.js';
import { tempDir } from './support/pipeline.js';

const dir = tempDir();
after(() => dir.dispose());

/** What the reader must give for `text`: split on \n, one \r dropped, no empty last line. */
function expectedLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}

function readAll(
  file: string,
  readBytes: number,
  linesMax: number,
  lineBytesMax?: number,
): string[] {
  const reader = new LineReader(file, readBytes, lineBytesMax);
  const lines: string[] = [];
  try {
    for (let chunk = reader.next(linesMax); chunk.length > 0; chunk = reader.next(linesMax)) {
      assert.ok(chunk.length <= linesMax, 'at most linesMax lines a call');
      lines.push(...chunk);
      assert.equal(reader.lineNumber, lines.length);
    }
  } finally {
    reader.close();
  }
  return lines;
}

let files = 0;

/** A text of up to 200 pieces, each one of `pieces`. */
function textOf(...pieces: string[]): fc.Arbitrary<string> {
  return fc.array(fc.constantFrom(...pieces), { maxLength: 200 }).map((parts) => parts.join(''));
}

/** `text` in a new file, as UTF-8; its path. */
function fileWith(text: string): string {
  const file = join(dir.path, `text-${files++}.txt`);
  writeFileSync(file, text, 'utf8');
  return file;
}

test('lines come out as written, whatever the read size, the chunk size and the text', () => {
  // ASCII, multi-byte UTF-8 (2, 3 and 4 bytes), CRLF, empty lines, with or without a final
  // newline, read a byte at a time up to more than the file: reads split characters and lines
  // anywhere, and lines outgrow the buffer.
  fc.assert(
    fc.property(
      textOf('a', 'Z', '{', '"', ' ', '\r', '\n', '\r\n', 'é', '€', '😀'),
      fc.integer({ min: 1, max: 64 }),
      fc.integer({ min: 1, max: 9 }),
      (text, readBytes, linesMax) => {
        assert.deepEqual(readAll(fileWith(text), readBytes, linesMax), expectedLines(text));
      },
    ),
    { seed: 20261206, numRuns: 500 },
  );
});

test('a file of NDJSON events reads the same through small and large buffers', () => {
  const events = Array.from({ length: 5_000 }, (_, index) =>
    JSON.stringify({ id: `e-${index}`, type: 'order', order: `ø-${index}`, pv: index }),
  );
  const file = fileWith(`${events.join('\n')}\n`);
  assert.deepEqual(readAll(file, 7, 1_000), events);
  assert.deepEqual(readAll(file, 1 << 20, 65_536), events);
});

test('a line over the cap goes out as its first lineBytesMax bytes; the rest is skipped', () => {
  fc.assert(
    fc.property(
      textOf('a', '{', '\r', '\n', '\n', 'é', '€', '😀'),
      fc.integer({ min: 1, max: 16 }),
      fc.integer({ min: 0, max: 24 }),
      (text, readBytes, extra) => {
        const lineBytesMax = readBytes + extra;
        const file = fileWith(text);
        const capped = text.split('\n').map((line) => {
          const bytes = Buffer.from(line, 'utf8');
          return bytes.length <= lineBytesMax ? line : bytes.subarray(0, lineBytesMax).toString();
        });
        const expected = expectedLines(capped.join('\n'));
        assert.deepEqual(readAll(file, readBytes, 5, lineBytesMax), expected);
      },
    ),
    { seed: 20261207, numRuns: 500 },
  );
});

test('a file with one line of 8 MiB reads through a 64 KiB cap without holding the line', () => {
  const file = join(dir.path, 'huge-line.txt');
  writeFileSync(file, `${'x'.repeat(8 * 1024 * 1024)}\n{"after":true}\n`);
  const lines = readAll(file, 4096, 10, 64 * 1024);
  assert.equal(lines.length, 2);
  assert.equal(lines[0], 'x'.repeat(64 * 1024));
  assert.equal(lines[1], '{"after":true}');
});
