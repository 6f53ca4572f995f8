import { isAscii } from 'node:buffer';
import { closeSync, openSync, readSync } from 'node:fs';

import { assert } from '../core/assert.js';

/**
 * Reads a text file as lines in bounded chunks (a replay file can be gigabytes): a read
 * buffer, and at most `linesMax` lines per call. A trailing `\r` is dropped (CRLF files); the
 * empty text after a final newline is not a line.
 *
 * Each read decodes only the bytes up to its last newline, in one native call, and keeps the
 * partial line after it in the buffer for the next read. A newline byte is never part of a
 * multi-byte UTF-8 sequence, so the decoded text never splits a character. A span of plain
 * ASCII (every line of a generated or typical shop file) decodes as latin1, which copies bytes
 * where UTF-8 decoding has to check them; the text is the same. Before, a StringDecoder over
 * each whole read took 1.25 s and splitting its text with the carried-over partial line 1.3 s
 * of a 3M-event replay's sequencer thread.
 *
 * A line longer than the buffer doubles it (the line has to be held whole to be parsed), up to
 * `lineBytesMax` (LINE_BYTES_MAX, 16 MiB: an event line is well under a kilobyte). A longer
 * line is handed out as its first `lineBytesMax` bytes, which no parser takes for an event
 * (the replay answers `malformed_json` for it), and the rest of it is skipped: a file with a
 * line of gigabytes costs 16 MiB, not a crash.
 */
export const LINE_BYTES_MAX = 16 * 1024 * 1024;

export class LineReader {
  private readonly fd: number;
  private buffer: Buffer;
  /** Bytes [start, end) of `buffer` are read but not yet handed out: a partial line. */
  private start = 0;
  private end = 0;
  private ready: string[] = [];
  private readyIndex = 0;
  private ended = false;
  /** True while the rest of an over-long line is being read past. */
  private skipping = false;
  /** 1-based number of the last line handed out, for error messages. */
  lineNumber = 0;

  constructor(
    file: string,
    readBytes = 4 * 1024 * 1024,
    private readonly lineBytesMax = LINE_BYTES_MAX,
  ) {
    assert(Number.isInteger(readBytes) && readBytes >= 1, 'readBytes >= 1');
    assert(
      Number.isInteger(lineBytesMax) && lineBytesMax >= readBytes,
      'lineBytesMax >= readBytes',
    );
    this.fd = openSync(file, 'r');
    this.buffer = Buffer.allocUnsafe(readBytes);
  }

  /** The next lines, or an empty array at the end of the file. */
  next(linesMax: number): string[] {
    const lines: string[] = [];
    while (lines.length < linesMax) {
      if (this.readyIndex < this.ready.length) {
        lines.push(stripCarriageReturn(this.ready[this.readyIndex++]!));
        continue;
      }
      if (this.ended) {
        if (this.start < this.end) lines.push(stripCarriageReturn(this.decode(this.end)));
        this.start = this.end;
        break;
      }
      this.fill();
    }
    this.lineNumber += lines.length;
    return lines;
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Reads more bytes and readies the whole lines among them (none if no newline came). */
  private fill(): void {
    if (this.end - this.start === this.lineBytesMax) {
      // The partial line has reached the cap: it goes out as it is, and the rest is skipped.
      this.ready = [this.decode(this.end)];
      this.readyIndex = 0;
      this.start = this.end;
      this.skipping = true;
      return;
    }
    this.makeRoom();
    const searchFrom = this.end;
    const bytesRead = readSync(this.fd, this.buffer, this.end, this.buffer.length - this.end, null);
    if (bytesRead === 0) {
      this.ended = true;
      return;
    }
    this.end += bytesRead;
    if (this.skipping) {
      const newline = this.buffer.indexOf(0x0a, searchFrom);
      if (newline === -1 || newline >= this.end) {
        this.start = this.end;
        return;
      }
      this.start = newline + 1;
      this.skipping = false;
    }
    // Bytes before searchFrom hold no newline: they are the partial line carried over.
    const lastNewline = this.buffer.lastIndexOf(0x0a, this.end - 1);
    if (lastNewline < this.start) return;
    this.ready = this.decode(lastNewline).split('\n');
    this.readyIndex = 0;
    this.start = lastNewline + 1;
  }

  /** Moves the partial line to the front, growing the buffer if the line fills it. */
  private makeRoom(): void {
    const carried = this.end - this.start;
    if (carried === this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.buffer.length * 2, this.lineBytesMax));
      this.buffer.copy(grown, 0, this.start, this.end);
      this.buffer = grown;
    } else if (this.start > 0) {
      this.buffer.copy(this.buffer, 0, this.start, this.end);
    }
    this.start = 0;
    this.end = carried;
  }

  /** The text of bytes [start, to). */
  private decode(to: number): string {
    const bytes = this.buffer.subarray(this.start, to);
    return isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  }
}

function stripCarriageReturn(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
