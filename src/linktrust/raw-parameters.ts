import type { RawParameter } from '../core/raw-parameter';

/** A pair whose value is not valid percent-encoded UTF-8; the name decoded, the value as it arrived. */
export interface MalformedParameter {
  name: string;
  rawValue: string;
}

/** Pairs decoded from `a=1&b=2`, plus those that could not be decoded. */
export interface DecodedPairs {
  parameters: RawParameter[];
  malformed: MalformedParameter[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const PLAIN = /^[\x20-\x24\x26-\x2a\x2c-\x7e]*$/; // printable ASCII without '%' and '+'

/**
 * Percent-decodes one component whose characters are the raw bytes as received (latin1), then reads the
 * bytes as UTF-8. Null on a bad escape (`%G1`, `%4`) or bytes that are not UTF-8 — both malformed.
 */
function decodeComponent(text: string): string | null {
  if (PLAIN.test(text)) return text;
  const bytes = new Uint8Array(text.length);
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x25) {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return null;
      bytes[length++] = parseInt(hex, 16);
      i += 2;
    } else if (code === 0x2b) {
      bytes[length++] = 0x20;
    } else if (code > 0xff) {
      return null; // not raw bytes: the caller handed in already-decoded text
    } else {
      bytes[length++] = code;
    }
  }
  try {
    return utf8.decode(bytes.subarray(0, length));
  } catch {
    return null;
  }
}

/**
 * Decodes an `application/x-www-form-urlencoded` string (a query string, or a form body read as latin1)
 * into raw pairs, keeping duplicates and the client's spelling. Written by hand rather than with qs/querystring because
 * those silently repair bad encoding and merge duplicates, and LinkTrust answers both.
 */
export function decodeFormPairs(text: string, into: DecodedPairs = { parameters: [], malformed: [] }): DecodedPairs {
  if (!text) return into;
  for (const part of text.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawName = eq === -1 ? part : part.slice(0, eq);
    const rawValue = eq === -1 ? '' : part.slice(eq + 1);
    const name = decodeComponent(rawName);
    const value = decodeComponent(rawValue);
    if (name === null) continue; // a name nobody can read names no known parameter: ignored like unknowns
    if (value === null) into.malformed.push({ name, rawValue });
    else into.parameters.push({ name, value });
  }
  return into;
}
