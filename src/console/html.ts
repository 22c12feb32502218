/**
 * Strict HTML building for the console: every interpolated value is escaped unless it is already
 * `SafeHtml` (the output of `html` itself). There is no other way to put text into a page, so an
 * unescaped campaign name, reason or URL cannot slip through.
 */

/** A fragment of markup that has already been escaped. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Escapes text for element content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ENTITIES[c]);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/** Tagged template: `html\`<p>${name}</p>\``; arrays of fragments are joined; null/undefined/false render nothing. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

/** Markup from a constant string written in this code base (never from input). */
export function trusted(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** `2026-11-25 11:47:03 UTC` inside a <time> element; a dash for null. */
export function time(ms: number | null | undefined): SafeHtml {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return html`<span class="muted">—</span>`;
  const iso = new Date(ms).toISOString();
  // Wraps only between the date and the time of day, never inside either.
  return html`<time datetime="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 19)}\u00a0UTC</time>`;
}

/** "Yes"/"No" with a class for colour (and the word itself, so colour is never the only signal). */
export function yesNo(value: boolean): SafeHtml {
  return value ? html`<span class="flag flag-yes">Yes</span>` : html`<span class="flag flag-no">No</span>`;
}

/** A URL path with query parameters, each encoded; empty values are left out. */
export function pathWithQuery(path: string, query: Record<string, string | number | null | undefined>): string {
  const pairs = Object.entries(query)
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return pairs.length ? `${path}?${pairs.join('&')}` : path;
}
