import { StringDecoder } from 'node:string_decoder';

/**
 * QMP frames are one JSON object per line (QEMU ends them with "\r\n"). Chunks from a stream can
 * split a line, or a multi-byte UTF-8 character, anywhere; this joins them back.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private buffered = '';

  /** Feeds a chunk; returns every complete, non-blank line (without the line end). */
  push(chunk: Buffer | string): string[] {
    this.buffered += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const parts = this.buffered.split('\n');
    this.buffered = parts.pop() ?? '';
    return parts.map((line) => line.replace(/\r$/, '')).filter((line) => line.trim() !== '');
  }

  /** Call once the stream ended: returns a partial line the peer never finished ("" if none). */
  finish(): string {
    const rest = this.buffered + this.decoder.end();
    this.buffered = '';
    return rest;
  }
}
