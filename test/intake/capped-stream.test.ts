import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { capped } from '../../src/intake/capped-stream';

/** Everything a stream hands on, read to its end. */
async function received(source: Readable, maxBytes: number) {
  const body = capped(source, maxBytes);
  const chunks: Buffer[] = [];
  await pipeline(
    body,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    }),
  );
  return { bytes: Buffer.concat(chunks), exceeded: body.exceeded };
}

describe('capped stream (what the e-mail intake parses of a message)', () => {
  it('hands on a message within the limit whole', async () => {
    const message = Buffer.from('Subject: x\r\n\r\nbody\r\n');
    const { bytes, exceeded } = await received(Readable.from([message]), message.length);
    expect(bytes.equals(message)).toBe(true);
    expect(exceeded).toBe(false);
  });

  it('reads an oversized message to its end but hands on no more than the limit', async () => {
    const chunks = Array.from({ length: 64 }, () => Buffer.alloc(64 * 1024, 'a'));
    let read = 0;
    const source = Readable.from(
      (function* () {
        for (const chunk of chunks) {
          read += chunk.length;
          yield chunk;
        }
      })(),
    );
    const { bytes, exceeded } = await received(source, 100_000);
    expect(exceeded).toBe(true);
    expect(bytes.length).toBeLessThanOrEqual(100_000);
    // The source was drained, so the SMTP session can answer 552 and go on.
    expect(read).toBe(64 * 64 * 1024);
  });

  it('passes a source error on', async () => {
    const source = new Readable({
      read() {
        this.destroy(new Error('connection lost'));
      },
    });
    await expect(received(source, 10)).rejects.toThrow('connection lost');
  });
});
