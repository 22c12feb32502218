import type { Batch } from '../../store/batch-store';
import type { RowResult } from '../../core/row-result';
import { html, SafeHtml, time } from '../html';
import { csrfField, PageSession } from './layout';

const RUNNING = new Set(['queued', 'processing']);

/** The batch's state; a duplicate that was not applied says so instead of a green "completed". */
function stateOf(b: Batch): SafeHtml {
  if (b.duplicateOf !== null && !b.forced && b.state === 'completed')
    return html`<span class="state state-duplicate">duplicate, not applied</span>`;
  return html`<span class="state state-${b.state}">${b.state}</span>`;
}

/** Per impact batch, how many rows got each code. */
export type BatchCodeCounts = Map<number, Array<{ code: string; count: number }>>;

const CHANNELS: Record<Batch['channel'], string> = {
  api: 'admin API',
  console: 'console',
  ftp: 'FTP',
  sftp: 'SFTP',
  pull: 'pull',
  email: 'e-mail',
};

/** The file's kind and the door it came in by (and, for an intake, its campaign and sender). */
function kindCell(b: Batch): SafeHtml {
  const kind = b.kind === 'impact' ? 'impact.com' : 'Lead Poster';
  const from = [CHANNELS[b.channel] ?? b.channel];
  if (b.campaignId !== null) from.push(`campaign ${b.campaignId}`);
  if (b.submittedBy !== null) from.push(b.submittedBy);
  return html`${kind}<br><span class="small muted">${from.join(' · ')}</span>`;
}

/** An impact batch's codes, most frequent first, one per line: "MODIFIED 3", "MALFORMED 1". */
function codesLine(codes: Array<{ code: string; count: number }> | undefined): SafeHtml | string {
  if (!codes || codes.length === 0) return '';
  const lines = codes.map((c) => html`<br><span class="small nowrap">${c.code} ${c.count}</span>`);
  return html`${lines}`;
}

/** The submissions table inside its live region; the script refreshes it while a batch is running. */
export function batchTableView(batches: Batch[], codes: BatchCodeCounts = new Map()): SafeHtml {
  const active = batches.some((b) => RUNNING.has(b.state));
  const rows = batches.map(
    (b) => html`<tr id="batch-${b.id}">
<td data-label="ID" class="num"><a href="/admin/batches/${b.id}">${b.id}</a></td>
<td data-label="File">${b.filename}${b.duplicateOf !== null ? html`<br><span class="small muted">${b.forced ? 'Re-upload of' : 'Duplicate of'} batch ${b.duplicateOf}${b.forced ? ', applied again' : ', not applied'}</span>` : ''}</td>
<td data-label="Kind">${kindCell(b)}</td>
<td data-label="State">${stateOf(b)}${b.error ? html`<br><span class="small">${b.error}</span>` : ''}${codesLine(codes.get(b.id))}</td>
<td data-label="Processed" class="num"><span class="nowrap">${b.processed} of ${b.records}</span></td>
<td data-label="Succeeded" class="num">${b.succeeded}</td>
<td data-label="Failed" class="num">${b.failed}</td>
<td data-label="Uploaded"><span class="nowrap">${time(b.createdAt)}</span>${b.finishedAt !== null ? html`<br><span class="small muted nowrap">finished ${time(b.finishedAt)}</span>` : ''}</td>
<td data-label="Results">${b.processed > 0 ? html`<a class="nowrap" href="/admin/batches/${b.id}/results" download aria-label="Download results of batch ${b.id} (CSV)">CSV</a>` : html`<span class="muted">—</span>`}</td>
</tr>`,
  );
  const table = batches.length
    ? html`<div class="table-wrap"><table class="stack"><caption>File submissions, newest first${active ? ' (updating)' : ''}</caption>
<thead><tr><th scope="col" class="num">ID</th><th scope="col">File</th><th scope="col">Kind</th><th scope="col">State</th><th scope="col" class="num">Processed</th><th scope="col" class="num">Succeeded</th><th scope="col" class="num">Failed</th><th scope="col">Uploaded</th><th scope="col">Results</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
    : html`<p>No files uploaded yet.</p>`;
  return html`<div id="batch-table" data-live-url="/admin/batches/table" data-live-every="2000" data-live-active="${active ? 'true' : 'false'}">${table}</div>`;
}

/** The Batches page: the upload form, the merchant's e-mail intake address if it has one, the submissions table. */
export function batchesView(input: {
  batches: Batch[];
  codes: BatchCodeCounts;
  session: PageSession;
  maxUploadBytes: number;
  /** A merchant user's: its merchant's current e-mail intake address (null: none, or not a merchant). */
  emailAddress?: string | null;
}): SafeHtml {
  const megabytes = Math.floor(input.maxUploadBytes / (1024 * 1024));
  return html`<section class="card" aria-labelledby="upload-h"><h2 id="upload-h">Upload a modification file</h2>
<p class="hint">A tab-delimited TXT (Excel “Text (Tab delimited)” or “Unicode Text”) or a CSV with a header row: <code>Password</code>, one identifier (<code>TransactionID</code>, <code>ClickID</code>, or <code>MerchantreferenceID</code> + <code>CID</code>), <code>AP</code>, <code>MP</code>, <code>A</code>, and optionally <code>executeaffiliatepixel</code>, <code>REASON</code>. Each row gets the answer /transaction.edit would give. An impact.com modifications file (CSV or XML with <code>ActionId</code> or <code>Oid</code> + <code>ActionTrackerId</code>, <code>Amount</code>, <code>Reason</code>, item columns) is told apart by its header and gets impact.com's result codes. Up to ${megabytes} MB.${input.session.merchant ? html` Rows may change only your campaigns’ transactions: any other is answered as not found.` : ''}</p>
<form class="stack" method="post" action="/admin/batches" enctype="multipart/form-data">${csrfField(input.session)}
<div class="field"><label for="file">File</label><input type="file" id="file" name="file" accept=".txt,.csv,.tsv,.xml,text/plain,text/csv,text/tab-separated-values,application/xml,text/xml" required></div>
<div class="check"><input type="checkbox" id="force" name="force" value="on" aria-describedby="force-hint"><div><label for="force">Apply even if uploaded before</label><span class="hint" id="force-hint">The same file uploaded twice is otherwise recorded as a duplicate and not applied again.</span></div></div>
<div class="actions"><button type="submit">Upload and apply</button></div>
</form>${input.emailAddress ? html`<p id="email-intake">E-mail files to: <code>${input.emailAddress}</code> <span class="hint">(each .csv or .xml attachment of a message to this address becomes a batch whose rows may change only your campaigns’ transactions)</span></p>` : ''}</section>
<section class="card" aria-labelledby="subs-h"><h2 id="subs-h">Submissions</h2>${batchTableView(input.batches, input.codes)}</section>`;
}

/** One batch: what it is, where it came from, its counts and codes, and its refused rows a page at a time. */
export function batchView(input: {
  batch: Batch;
  codes: Array<{ code: string; count: number }> | undefined;
  failed: RowResult[];
  /** The link to the next page of refused rows, when there may be more. */
  nextHref: string | null;
}): SafeHtml {
  const b = input.batch;
  const rows = input.failed.map(
    (r) => html`<tr><td data-label="Row" class="num">${r.rowNumber}</td>
${b.kind === 'impact' ? html`<td data-label="Code"><code>${r.code ?? ''}</code></td>` : ''}
<td data-label="Message">${r.message}</td>
<td data-label="Identifier"><code>${rowIdentifier(r)}</code></td></tr>`,
  );
  const failedTable = input.failed.length
    ? html`<div class="table-wrap"><table class="stack"><caption>Refused rows, in file order</caption>
<thead><tr><th scope="col" class="num">Row</th>${b.kind === 'impact' ? html`<th scope="col">Code</th>` : ''}<th scope="col">Message</th><th scope="col">Identifier</th></tr></thead>
<tbody>${rows}</tbody></table></div>
${input.nextHref ? html`<p class="pager"><a href="${input.nextHref}">More refused rows</a></p>` : ''}`
    : html`<p>${b.processed === 0 ? 'No row processed yet.' : 'No row was refused.'}</p>`;
  return html`<section class="card" aria-labelledby="batch-h"><h2 id="batch-h">${b.filename}</h2>
<dl class="facts">
<dt>Kind</dt><dd>${kindCell(b)}</dd>
<dt>State</dt><dd>${stateOf(b)}${b.error ? html`<br><span class="small">${b.error}</span>` : ''}${codesLine(input.codes)}</dd>
<dt>Rows</dt><dd>${b.processed} of ${b.records} processed: ${b.succeeded} succeeded, ${b.failed} refused</dd>
${b.duplicateOf !== null ? html`<dt>Same content as</dt><dd><a href="/admin/batches/${b.duplicateOf}">batch ${b.duplicateOf}</a>${b.forced ? ' (applied again)' : ''}</dd>` : ''}
<dt>Uploaded</dt><dd>${time(b.createdAt)}</dd><dt>Finished</dt><dd>${time(b.finishedAt)}</dd>
<dt>Results</dt><dd>${b.processed > 0 ? html`<a href="/admin/batches/${b.id}/results" download>Download the results (CSV)</a>` : html`<span class="muted">—</span>`}</dd>
</dl></section>
<section class="card" aria-labelledby="failed-h"><h2 id="failed-h">Refused rows</h2>${failedTable}</section>`;
}

/** What a row named its action or transaction by, as the results file echoes it. */
function rowIdentifier(r: RowResult): string {
  return (
    r.actionId ||
    r.oid ||
    r.transactionId ||
    r.clickId ||
    (r.merchantReferenceId ? `${r.merchantReferenceId} / ${r.cid}` : '') ||
    '—'
  );
}
