import { TextDecoder } from 'node:util';
import iconv from 'iconv-lite';

/** The character encodings a merchant's Lead Poster file can arrive in. */
export type FileEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

/** The outcome of decoding an uploaded file: its text, or why it cannot be read as text. */
export type DecodedFile =
  | { ok: true; text: string; encoding: FileEncoding }
  | { ok: false; reason: string };

const EMPTY_FILE = 'the file is empty';
const BINARY_FILE = 'the file is not a text file (binary content)';

/*
 * Share of "not text" characters above which we call the file binary. Real spreadsheet exports
 * contain none; random bytes decoded as Windows-1252 land around 13%. 5% leaves room for an odd
 * stray character (a DOS Ctrl-Z at the end, a vertical tab some tools use for in-cell breaks).
 */
const MAX_CONTROL_SHARE = 0.05;

const UTF8_BOM = [0xef, 0xbb, 0xbf];
const UTF16LE_BOM = [0xff, 0xfe];
const UTF16BE_BOM = [0xfe, 0xff];

/**
 * Turns the bytes of an uploaded modification file into text.
 *
 * Excel gives merchants three ways to save the sheet: "Text (Tab delimited)" in the machine's ANSI
 * code page (Windows-1252 for our merchants), "Unicode Text" (UTF-16LE with a BOM) and
 * "CSV UTF-8" (UTF-8 with a BOM); other tools write BOM-less UTF-8. The BOM wins when present;
 * otherwise strictly valid UTF-8 is UTF-8 and anything else is taken as Windows-1252, which
 * decodes every byte, so the binary check afterwards is what catches files that are not text.
 */
export function decodeModificationFile(bytes: Buffer): DecodedFile {
  if (bytes.length === 0) return { ok: false, reason: EMPTY_FILE };

  if (startsWith(bytes, UTF16LE_BOM)) return decodeUtf16(bytes.subarray(2), 'utf-16le');
  if (startsWith(bytes, UTF16BE_BOM)) return decodeUtf16(bytes.subarray(2), 'utf-16be');

  // Outside UTF-16 a NUL byte never belongs to text; it is the cheapest sure sign of a binary file.
  if (bytes.includes(0)) return { ok: false, reason: BINARY_FILE };

  if (startsWith(bytes, UTF8_BOM)) {
    // The BOM says UTF-8, so a stray invalid byte becomes U+FFFD rather than a guess at another
    // encoding; the binary check below still rejects a file that is mostly invalid.
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes.subarray(3));
    return checkedText(text, 'utf-8');
  }

  const utf8 = decodeStrict(bytes, 'utf-8');
  if (utf8 !== undefined) return checkedText(utf8, 'utf-8');
  return checkedText(iconv.decode(bytes, 'windows-1252'), 'windows-1252');
}

/*
 * UTF-16 is decoded strictly: an odd byte count or an unpaired surrogate does not happen in a file a
 * spreadsheet wrote, and random bytes after an FF FE prefix would otherwise decode to plausible-looking
 * CJK text that the control-character check cannot tell from real text.
 */
function decodeUtf16(body: Buffer, encoding: 'utf-16le' | 'utf-16be'): DecodedFile {
  const text = decodeStrict(body, encoding);
  if (text === undefined) return { ok: false, reason: BINARY_FILE };
  return checkedText(text, encoding);
}

/** Decodes with a fatal decoder; undefined when the bytes are not valid in that encoding. */
function decodeStrict(bytes: Buffer, encoding: 'utf-8' | 'utf-16le' | 'utf-16be'): string | undefined {
  try {
    return new TextDecoder(encoding, { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function checkedText(text: string, encoding: FileEncoding): DecodedFile {
  // A file holding only a BOM is as empty as a zero-byte file.
  if (text.length === 0) return { ok: false, reason: EMPTY_FILE };
  if (controlShare(text) > MAX_CONTROL_SHARE) return { ok: false, reason: BINARY_FILE };
  return { ok: true, text, encoding };
}

/** Share of characters no text file contains: C0/C1 controls other than tab, CR, LF; DEL; U+FFFD. */
function controlShare(text: string): number {
  let suspicious = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const isC0 = code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d;
    const isDelOrC1 = code >= 0x7f && code <= 0x9f;
    if (isC0 || isDelOrC1 || code === 0xfffd) suspicious++;
  }
  return suspicious / text.length;
}

function startsWith(bytes: Buffer, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((byte, i) => bytes[i] === byte);
}
