import fc from 'fast-check';
import { decodeModificationFile } from '../../src/batch/decode-file';

const HEADER = 'Password\tMerchantreferenceID\tCID\tAP\r\n';
const ROW = 'demo-password\tcafé-€-中-😀\t100\t1.00\r\n';
const TEXT = HEADER + ROW;

const BINARY = { ok: false, reason: 'the file is not a text file (binary content)' };
const EMPTY = { ok: false, reason: 'the file is empty' };

/** Deterministic bytes, so a failing binary case can be reproduced. */
function pseudoRandomBytes(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    bytes[i] = state >> 16;
  }
  return bytes;
}

describe('decodeModificationFile', () => {
  it('refuses an empty file', () => {
    expect(decodeModificationFile(Buffer.alloc(0))).toEqual(EMPTY);
  });

  it('refuses a file holding nothing but a byte order mark', () => {
    expect(decodeModificationFile(Buffer.from([0xef, 0xbb, 0xbf]))).toEqual(EMPTY);
    expect(decodeModificationFile(Buffer.from([0xff, 0xfe]))).toEqual(EMPTY);
  });

  it('reads UTF-8 without a BOM', () => {
    expect(decodeModificationFile(Buffer.from(TEXT, 'utf8'))).toEqual({ ok: true, text: TEXT, encoding: 'utf-8' });
  });

  it('reads UTF-8 with a BOM (Excel "CSV UTF-8") and strips the BOM', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(TEXT, 'utf8')]);
    expect(decodeModificationFile(bytes)).toEqual({ ok: true, text: TEXT, encoding: 'utf-8' });
  });

  it('reads UTF-16LE with a BOM (Excel "Unicode Text") and strips the BOM', () => {
    const bytes = Buffer.from('\ufeff' + TEXT, 'utf16le');
    expect(bytes.subarray(0, 4)).toEqual(Buffer.from([0xff, 0xfe, 0x50, 0x00]));
    expect(decodeModificationFile(bytes)).toEqual({ ok: true, text: TEXT, encoding: 'utf-16le' });
  });

  it('reads UTF-16BE with a BOM and strips the BOM', () => {
    const bytes = Buffer.from('\ufeff' + TEXT, 'utf16le').swap16();
    expect(bytes.subarray(0, 4)).toEqual(Buffer.from([0xfe, 0xff, 0x00, 0x50]));
    expect(decodeModificationFile(bytes)).toEqual({ ok: true, text: TEXT, encoding: 'utf-16be' });
  });

  it('reads bytes that are not valid UTF-8 as Windows-1252 (Excel "Text (Tab delimited)")', () => {
    // caf\xE9 and \x80 (euro sign) as the ANSI code page writes them: 0xE9 alone is invalid UTF-8.
    const bytes = Buffer.concat([Buffer.from('Password\tA\r\ncaf'), Buffer.from([0xe9, 0x09, 0x80, 0x0d, 0x0a])]);
    expect(decodeModificationFile(bytes)).toEqual({
      ok: true,
      text: 'Password\tA\r\ncafé\t€\r\n',
      encoding: 'windows-1252',
    });
  });

  it('prefers UTF-8 when the bytes are valid UTF-8', () => {
    // 0xC3 0xA9 is "Ã©" in Windows-1252 but "é" in UTF-8; valid UTF-8 wins.
    expect(decodeModificationFile(Buffer.from([0x63, 0xc3, 0xa9]))).toEqual({
      ok: true,
      text: 'cé',
      encoding: 'utf-8',
    });
  });

  it('refuses a PNG image', () => {
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52]),
      pseudoRandomBytes(512, 7),
    ]);
    expect(decodeModificationFile(png)).toEqual(BINARY);
  });

  it('refuses a single NUL byte in an otherwise textual UTF-8 or Windows-1252 file', () => {
    expect(decodeModificationFile(Buffer.from('Password\tTransactionID\n\0'))).toEqual(BINARY);
    expect(decodeModificationFile(Buffer.from([0xef, 0xbb, 0xbf, 0x41, 0x00]))).toEqual(BINARY);
  });

  it('refuses binary content without NUL bytes by its share of control characters', () => {
    const noNul = pseudoRandomBytes(2000, 42).map((byte) => (byte === 0 ? 1 : byte));
    expect(noNul.includes(0)).toBe(false);
    expect(decodeModificationFile(Buffer.from(noNul))).toEqual(BINARY);
  });

  it('accepts a stray control character such as a DOS end-of-file marker', () => {
    const text = 'Password\tTransactionID\r\ndemo-password\t1001\r\n\x1a';
    expect(decodeModificationFile(Buffer.from(text))).toEqual({ ok: true, text, encoding: 'utf-8' });
  });

  it('refuses UTF-16 that is not valid UTF-16 (odd length or unpaired surrogate)', () => {
    expect(decodeModificationFile(Buffer.from([0xff, 0xfe, 0x41, 0x00, 0x42]))).toEqual(BINARY);
    expect(decodeModificationFile(Buffer.from([0xff, 0xfe, 0x41, 0x00, 0x00, 0xd8, 0x41, 0x00]))).toEqual(BINARY);
    expect(decodeModificationFile(Buffer.concat([Buffer.from([0xff, 0xfe]), pseudoRandomBytes(400, 3)]))).toEqual(
      BINARY,
    );
  });

  it('refuses UTF-16 whose text is mostly control characters', () => {
    expect(decodeModificationFile(Buffer.from('\ufeff\x01\x02\x03\x04A', 'utf16le'))).toEqual(BINARY);
  });

  it('treats BOM-less UTF-16 as binary, since only its NUL bytes could tell it apart', () => {
    expect(decodeModificationFile(Buffer.from('Password\tTransactionID', 'utf16le'))).toEqual(BINARY);
  });

  it('returns the original text for any UTF-8 or UTF-16 (with BOM) encoding of a text', () => {
    const character = fc.constantFrom('a', 'Z', '0', ' ', '\t', '\r', '\n', ',', '"', 'é', '€', 'ß', '中', '😀');
    const text = fc.string({ unit: character, minLength: 1 });
    fc.assert(
      fc.property(text, (original) => {
        const utf16le = Buffer.from('\ufeff' + original, 'utf16le');
        const encodings = [
          [Buffer.from(original, 'utf8'), 'utf-8'],
          [Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(original, 'utf8')]), 'utf-8'],
          [utf16le, 'utf-16le'],
          [Buffer.from(utf16le).swap16(), 'utf-16be'],
        ] as const;
        for (const [bytes, encoding] of encodings) {
          expect(decodeModificationFile(bytes)).toEqual({ ok: true, text: original, encoding });
        }
      }),
    );
  });
});
