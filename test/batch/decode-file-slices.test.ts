import fc from 'fast-check';
import iconv from 'iconv-lite';
import {
  checkModificationFile,
  decodedSlices,
  decodeModificationFile,
  type FileEncoding,
} from '../../src/batch/decode-file';

const TEXT = 'Password\tMerchantreferenceID\tCID\r\npw\tcafé-€-中-😀\t100\r\n';

const encodings: Array<[string, Buffer, FileEncoding]> = [
  ['UTF-8', Buffer.from(TEXT, 'utf8'), 'utf-8'],
  ['UTF-8 with a BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(TEXT, 'utf8')]), 'utf-8'],
  ['UTF-16LE', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(TEXT, 'utf16le')]), 'utf-16le'],
  ['UTF-16BE', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(TEXT, 'utf16le').swap16()]), 'utf-16be'],
  ['Windows-1252', iconv.encode('Password\tClickID\r\npw\tcafé €\r\n', 'windows-1252'), 'windows-1252'],
];

/** Deterministic bytes, so a failing case can be reproduced. */
function pseudoRandomBytes(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    bytes[i] = state >> 16;
  }
  return bytes;
}

/** What checkModificationFile must say: decodeModificationFile's verdict, without the text. */
function verdictOf(bytes: Buffer) {
  const decoded = decodeModificationFile(bytes);
  return decoded.ok ? { ok: true, encoding: decoded.encoding } : decoded;
}

describe('decoding an upload in slices', () => {
  it.each(encodings)(
    'gives the whole text of a %s file, whatever the slice size cuts through',
    (_name, bytes, encoding) => {
      const whole = decodeModificationFile(bytes);
      expect(whole).toMatchObject({ ok: true, encoding });
      for (let size = 1; size <= bytes.length; size++) {
        expect([...decodedSlices(bytes, encoding, size)].join('')).toBe(whole.ok && whole.text);
      }
    },
  );

  it.each(encodings)(
    'accepts a %s file with the encoding decodeModificationFile names',
    async (_name, bytes, encoding) => {
      expect(await checkModificationFile(bytes)).toEqual({ ok: true, encoding });
    },
  );

  it('refuses what decodeModificationFile refuses, with the same reason', async () => {
    const refused = [
      Buffer.alloc(0),
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from([0xff, 0xfe, 0x41, 0x00, 0x42]),
      Buffer.from([0xff, 0xfe, 0x41, 0x00, 0x00, 0xd8, 0x41, 0x00]),
      Buffer.from('Password\tTransactionID\n\0'),
      Buffer.concat([Buffer.from([0xff, 0xfe]), pseudoRandomBytes(400_000, 3)]),
      Buffer.from(pseudoRandomBytes(300_000, 7).map((byte) => byte || 1)),
    ];
    for (const bytes of refused) {
      const verdict = verdictOf(bytes);
      expect(verdict.ok).toBe(false);
      expect(await checkModificationFile(bytes)).toEqual(verdict);
    }
  });

  it("reaches decodeModificationFile's verdict on any bytes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 64 }),
        fc.constantFrom([], [0xef, 0xbb, 0xbf], [0xff, 0xfe], [0xfe, 0xff]),
        async (body, bom) => {
          const bytes = Buffer.concat([Buffer.from(bom), Buffer.from(body)]);
          expect(await checkModificationFile(bytes)).toEqual(verdictOf(bytes));
        },
      ),
      { numRuns: 500 },
    );
  });
});
