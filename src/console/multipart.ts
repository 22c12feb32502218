/** One part of a multipart/form-data body. */
export interface MultipartPart {
  name: string;
  /** Set for file inputs (possibly ''), null for plain fields. */
  filename: string | null;
  contentType: string | null;
  data: Buffer;
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/** The boundary of a multipart/form-data Content-Type, or null. */
export function boundaryOf(contentType: string | undefined): string | null {
  if (!contentType || !/^multipart\/form-data\b/i.test(contentType)) return null;
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  return match ? (match[1] ?? match[2]) : null;
}

// Browsers (WHATWG HTML) write names and filenames inside quotes with `"`, CR and LF percent-encoded
// and nothing backslash-escaped (a Windows path keeps its backslashes): undo exactly that.
function dispositionParameter(header: string, name: string): string | null {
  const match =
    new RegExp(`(?:^|;)\\s*${name}="([^"]*)"`, 'i').exec(header) ??
    new RegExp(`(?:^|;)\\s*${name}=([^;\\s"]+)`, 'i').exec(header);
  return match ? match[1].replace(/%22/g, '"').replace(/%0[AD]/gi, ' ') : null;
}

function partHeaders(text: string): { name: string; filename: string | null; contentType: string | null } | null {
  let disposition = '';
  let contentType: string | null = null;
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === 'content-disposition') disposition = value;
    else if (key === 'content-type') contentType = value;
  }
  if (!/^form-data\b/i.test(disposition)) return null;
  const params = disposition.slice(disposition.indexOf(';') + 1);
  const name = dispositionParameter(params, 'name');
  if (name === null) return null;
  return { name, filename: dispositionParameter(params, 'filename'), contentType };
}

/**
 * Splits a multipart/form-data body (RFC 7578) into its parts. Small and strict on purpose: the console
 * has one upload form, so a hand-written parser replaces a dependency. Returns null when the body is
 * not well-formed.
 */
export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] | null {
  const delimiter = Buffer.from(`--${boundary}`);
  const nextDelimiter = Buffer.concat([CRLF, delimiter]);
  let position = body.indexOf(delimiter);
  if (position < 0) return null;
  const parts: MultipartPart[] = [];
  for (;;) {
    position += delimiter.length;
    if (body[position] === 0x2d && body[position + 1] === 0x2d) return parts;
    while (body[position] === 0x20 || body[position] === 0x09) position++;
    if (!body.subarray(position, position + 2).equals(CRLF)) return null;
    position += 2;
    const headerEnd = body.indexOf(HEADER_END, position);
    if (headerEnd < 0) return null;
    const headers = partHeaders(body.subarray(position, headerEnd).toString('utf8'));
    const dataStart = headerEnd + HEADER_END.length;
    const dataEnd = body.indexOf(nextDelimiter, dataStart);
    if (headers === null || dataEnd < 0) return null;
    parts.push({ ...headers, data: body.subarray(dataStart, dataEnd) });
    position = dataEnd + CRLF.length;
  }
}
