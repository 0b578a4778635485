// Response bodies read into memory with a hard limit, so a hostile or broken registry cannot make
// us buffer more than the descriptor (or the manifest cap) allows.
import type { Readable } from 'node:stream';
import { PolicyOciError } from '../errors.ts';


/** Drops a body we will not read (its connection is closed); the abort's error is nobody's news. */
export function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

/** Reads an empty body (a HEAD's) to its end, so that its connection can serve the next request. */
export async function drain(body: Readable): Promise<void> {
  for await (const chunk of body as AsyncIterable<Buffer>) void chunk;
}

/**
 * Reads `body` up to `limit` bytes. Past the limit: with `truncate` the rest is dropped, otherwise
 * the stream is destroyed and LIMIT thrown (`what` names the content in the message).
 */
export async function readLimited(body: Readable, limit: number, what: string, truncate = false): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    const room = limit - total;
    if (chunk.byteLength > room) {
      if (room > 0) chunks.push(chunk.subarray(0, room));
      total = limit;
      discard(body);
      if (truncate) break;
      throw new PolicyOciError('LIMIT', `${what} is larger than the limit of ${limit} bytes`);
    }
    chunks.push(chunk);
    total += chunk.byteLength;
  }
  return Buffer.concat(chunks, total);
}
