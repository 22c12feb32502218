import { isUtf8 } from 'node:buffer';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { TextDecoder } from 'node:util';
import iconv from 'iconv-lite';

/** The character encodings a merchant's Lead Poster file can arrive in. */
export type FileEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

/** The outcome of decoding an uploaded file: its text, or why it cannot be read as text. */
export type DecodedFile = { ok: true; text: string; encoding: FileEncoding } | { ok: false; reason: string };

/** The outcome of checking an uploaded file without keeping its text: its encoding, or why it cannot be read. */
export type CheckedFile = { ok: true; encoding: FileEncoding } | { ok: false; reason: string };

const EMPTY_FILE = 'the file is empty';
const BINARY_FILE = 'the file is not a text file (binary content)';

/*
 * Share of "not text" characters above which we call the file binary. Real spreadsheet exports
 * contain none; random bytes decoded as Windows-1252 land around 13%. 5% leaves room for an odd
 * stray character (a DOS Ctrl-Z at the end, a vertical tab some tools use for in-cell breaks).
 */
const MAX_CONTROL_SHARE = 0.05;

/* Bytes decoded at a time by the sliced readers: well under a millisecond of work between two turns. */
const TEXT_SLICE_BYTES = 16 * 1024;

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
  const encoding = detectEncoding(bytes);
  if (typeof encoding !== 'string') return encoding;
  let text: string;
  try {
    text = [...decodedSlices(bytes, encoding, Math.max(bytes.length, 1))].join('');
  } catch (error) {
    if (isInvalidText(error)) return { ok: false, reason: BINARY_FILE };
    throw error;
  }
  const verdict = textVerdict(text.length, suspiciousCount(text), encoding);
  return verdict.ok ? { ok: true, text, encoding } : verdict;
}

/**
 * The same decision as {@link decodeModificationFile} — the same encoding, the same refusals — reached
 * a slice at a time, with a turn of the event loop between slices and keeping none of the text: for
 * uploads, which are then read again slice by slice with {@link decodedSlices}.
 */
export async function checkModificationFile(bytes: Buffer): Promise<CheckedFile> {
  const encoding = detectEncoding(bytes);
  if (typeof encoding !== 'string') return encoding;
  let length = 0;
  let suspicious = 0;
  try {
    for (const slice of decodedSlices(bytes, encoding)) {
      length += slice.length;
      suspicious += suspiciousCount(slice);
      await nextTurn();
    }
  } catch (error) {
    if (isInvalidText(error)) return { ok: false, reason: BINARY_FILE };
    throw error;
  }
  return textVerdict(length, suspicious, encoding);
}

/** The encoding the bytes are read in, or why they are not text at all before decoding anything. */
function detectEncoding(bytes: Buffer): FileEncoding | { ok: false; reason: string } {
  if (bytes.length === 0) return { ok: false, reason: EMPTY_FILE };
  if (startsWith(bytes, UTF16LE_BOM)) return 'utf-16le';
  if (startsWith(bytes, UTF16BE_BOM)) return 'utf-16be';
  // Outside UTF-16 a NUL byte never belongs to text; it is the cheapest sure sign of a binary file.
  if (bytes.includes(0)) return { ok: false, reason: BINARY_FILE };
  // After a UTF-8 BOM the file is UTF-8 whatever follows; without one, only if every byte is valid UTF-8.
  if (startsWith(bytes, UTF8_BOM) || isUtf8(bytes)) return 'utf-8';
  return 'windows-1252';
}

/**
 * The text of the bytes in `encoding`, decoded as the slices are consumed (about `sliceBytes` bytes
 * each), with a streaming decoder so that a character split between two slices comes out whole.
 * Joined, the slices of a file {@link checkModificationFile} accepted are {@link decodeModificationFile}'s text.
 *
 * UTF-16 is decoded strictly (an invalid sequence throws; see isInvalidText): an odd byte count or an
 * unpaired surrogate does not happen in a file a spreadsheet wrote, and random bytes after an FF FE
 * prefix would otherwise decode to plausible-looking CJK text that the control-character check cannot
 * tell from real text. UTF-8 is lenient: without a BOM it was validated already, and with one a stray
 * invalid byte becomes U+FFFD rather than a guess at another encoding (the binary check still rejects a
 * file that is mostly invalid). Windows-1252 decodes every byte.
 */
export function* decodedSlices(
  bytes: Buffer,
  encoding: FileEncoding,
  sliceBytes = TEXT_SLICE_BYTES,
): Generator<string> {
  const bomLength = { 'utf-8': startsWith(bytes, UTF8_BOM) ? 3 : 0, 'utf-16le': 2, 'utf-16be': 2, 'windows-1252': 0 }[
    encoding
  ];
  const body = bytes.subarray(bomLength);
  const decoder =
    encoding === 'windows-1252'
      ? { write: (slice: Buffer) => iconv.decode(slice, encoding), end: () => '' }
      : textDecoder(new TextDecoder(encoding, { fatal: encoding !== 'utf-8', ignoreBOM: true }));
  for (let start = 0; start < body.length; start += sliceBytes) {
    const text = decoder.write(body.subarray(start, start + sliceBytes));
    if (text !== '') yield text;
  }
  const rest = decoder.end();
  if (rest !== '') yield rest;
}

function textDecoder(decoder: TextDecoder) {
  return { write: (slice: Buffer) => decoder.decode(slice, { stream: true }), end: () => decoder.decode() };
}

/** The TypeError a fatal TextDecoder throws on bytes that are not valid in its encoding. */
function isInvalidText(error: unknown): boolean {
  // By code, not instanceof: the error comes from Node's own realm, which a test sandbox may not share.
  return (error as NodeJS.ErrnoException | null)?.code === 'ERR_ENCODING_INVALID_ENCODED_DATA';
}

function textVerdict(length: number, suspicious: number, encoding: FileEncoding): CheckedFile {
  // A file holding only a BOM is as empty as a zero-byte file.
  if (length === 0) return { ok: false, reason: EMPTY_FILE };
  if (suspicious / length > MAX_CONTROL_SHARE) return { ok: false, reason: BINARY_FILE };
  return { ok: true, encoding };
}

/** Characters no text file contains: C0/C1 controls other than tab, CR, LF; DEL; U+FFFD. */
function suspiciousCount(text: string): number {
  let suspicious = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const isC0 = code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d;
    const isDelOrC1 = code >= 0x7f && code <= 0x9f;
    if (isC0 || isDelOrC1 || code === 0xfffd) suspicious++;
  }
  return suspicious;
}

function startsWith(bytes: Buffer, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((byte, i) => bytes[i] === byte);
}
