import { closeSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/**
 * Reads a text file as lines in bounded chunks (a replay file can be gigabytes): a fixed
 * read buffer, a UTF-8 decoder that keeps split characters whole, and at most `linesMax`
 * lines per chunk. A trailing `\r` is dropped (CRLF files); the empty text after a final
 * newline is not a line.
 */
export class LineReader {
  private readonly fd: number;
  private readonly buffer: Buffer;
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private ready: string[] = [];
  private readyIndex = 0;
  private ended = false;
  /** 1-based number of the last line handed out, for error messages. */
  lineNumber = 0;

  constructor(file: string, readBytes = 4 * 1024 * 1024) {
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
        if (this.pending !== '') lines.push(stripCarriageReturn(this.pending));
        this.pending = '';
        break;
      }
      this.fill();
    }
    this.lineNumber += lines.length;
    return lines;
  }

  private fill(): void {
    const bytesRead = readSync(this.fd, this.buffer, 0, this.buffer.length, null);
    if (bytesRead === 0) {
      this.pending += this.decoder.end();
      this.ended = true;
      return;
    }
    const text = this.pending + this.decoder.write(this.buffer.subarray(0, bytesRead));
    const parts = text.split('\n');
    // The text after the last newline may be the start of a line the next read completes.
    this.pending = parts.pop() ?? '';
    this.ready = parts;
    this.readyIndex = 0;
  }

  close(): void {
    closeSync(this.fd);
  }
}

function stripCarriageReturn(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
