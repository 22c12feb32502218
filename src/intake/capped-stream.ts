import { Transform, type Readable } from 'node:stream';

/** A stream that forwards at most a limit of bytes, and says whether its source went past it. */
export interface CappedStream extends Transform {
  /** True once the source sent more than the limit (the rest was read and dropped). */
  readonly exceeded: boolean;
}

/**
 * Forwards `source` up to `maxBytes` and reads the rest without forwarding it. smtp-server only flags a
 * message over its SIZE (a client may ignore the extension) and keeps streaming it: without this cap a
 * parser would hold the whole oversized message in memory before the refusal.
 */
export function capped(source: Readable, maxBytes: number): CappedStream {
  let seen = 0;
  let exceeded = false;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > maxBytes) exceeded = true;
      if (!exceeded) return callback(null, chunk);
      callback();
    },
  });
  Object.defineProperty(stream, 'exceeded', { get: () => exceeded });
  source.on('error', (error) => stream.destroy(error));
  source.pipe(stream);
  return stream as CappedStream;
}
