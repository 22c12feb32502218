import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Agent } from 'undici';
import { asciiLowerCase } from '../../core/raw-parameter';
import { decodeModificationFile } from '../decode-file';
import { redactUrl, resolveEndpoint } from './endpoint';
import { runPool } from './pool';
import { postRow, realSleep, type RowPostingOptions, type Sleep } from './request';
import {
  compactResultsFile,
  isFinished,
  matchesRow,
  readResultsFile,
  ResultsAppender,
  type RowIdentifiers,
} from './results';
import { EXTRA_FIELDS_PARAMETER, parseModificationFile, type ParsedRow } from '../parse-file';
import { SUCCESS_MESSAGE } from '../results-csv';
import type { RowResult } from '../../core/row-result';
import { extraFieldsMessage } from '../run-row';

/** What to post where, and how. */
export interface PostFileOptions {
  /** The Lead Poster file (tab-delimited TXT or CSV). */
  file: string;
  /** The `/transaction.edit` URL, or the tracking domain's base URL. */
  url: string;
  /** Rows in flight at once (default 8). */
  concurrency?: number;
  /** Retries of a row after its first attempt (default 5). */
  retries?: number;
  /** Limit for one attempt (default 30 s). */
  timeoutMs?: number;
  /** Where results go (default `<file>.results.csv`); an existing results file is resumed. */
  resultsPath?: string;
  /** Post rows again that an earlier run recorded as permanent failures (default: they count as done). */
  repostFailed?: boolean;
  /** Stops the run: no new rows start, waits between retries end; rows in flight finish and are recorded. */
  signal?: AbortSignal;
  /** Called once the skipped rows are known, then after every row. */
  onProgress?: (progress: PostProgress) => void;
  /** Injectable waiting between retries (tests pass one that returns at once). */
  sleep?: Sleep;
  /** Injectable jitter source, a number in [0, 1). */
  random?: () => number;
}

/** Counts so far, for a progress display. */
export interface PostProgress {
  /** Data rows in the file. */
  total: number;
  /** Rows skipped (already done) plus rows finished in this run. */
  done: number;
  skipped: number;
  succeeded: number;
  failed: number;
}

/** How a run ended. */
export interface PostSummary {
  file: string;
  resultsPath: string;
  /** The endpoint posted to, fit to print. */
  endpoint: string;
  /** Data rows in the file. */
  total: number;
  /** Rows finished in this run (succeeded + failed). */
  posted: number;
  succeeded: number;
  failed: number;
  /** Rows an earlier run had finished. */
  skipped: number;
  /** Of the skipped rows, those finished as permanent failures (see `repostFailed`). */
  skippedFailures: number;
  /** Rows left unposted because the run was stopped; a re-run posts them. */
  notPosted: number;
  interrupted: boolean;
  /** Every row of the file is recorded as succeeded. */
  allSucceeded: boolean;
}

/** The run's summary, or why the file (or the URL, or the results file) was refused before posting anything. */
export type PostFileResult = { ok: true; summary: PostSummary } | { ok: false; reason: string };

const DEFAULTS = { concurrency: 8, retries: 5, timeoutMs: 30_000 };
// Below this length a "password" is indistinguishable from words of a message; see withoutPassword.
const MIN_SCRUBBED_PASSWORD_LENGTH = 4;

/**
 * The Lead Poster: posts every row of a modification file to a LinkTrust-compatible
 * `/transaction.edit` (txedit or LinkTrust itself), as LinkTrust's own lead poster does, and records
 * each row's answer in a results file beside the input. A re-run resumes: rows the results file shows
 * as finished (see {@link isFinished}) are not posted again.
 */
export async function postModificationFile(options: PostFileOptions): Promise<PostFileResult> {
  const settings = runSettings(options);
  const plan = await planRun(options);
  if (!plan.ok) return plan;

  const skipped = plan.rows.length - plan.pending.length;
  const progress: PostProgress = { total: plan.rows.length, done: skipped, skipped, succeeded: 0, failed: 0 };
  options.onProgress?.({ ...progress });

  const appender = await ResultsAppender.open(plan.resultsPath);
  const dispatcher = new Agent({ connections: settings.concurrency });
  const posting: RowPostingOptions = { ...settings, endpoint: plan.endpoint, dispatcher, signal: options.signal };
  let finished: number;
  try {
    finished = await runPool(plan.pending, settings.concurrency, options.signal, async (row) => {
      const record = await postOneRow(row, posting);
      if (record === null) return false;
      await appender.append(record);
      plan.records.set(record.rowNumber, record);
      if (record.succeeded) progress.succeeded++;
      else progress.failed++;
      progress.done++;
      options.onProgress?.({ ...progress });
      return true;
    });
  } finally {
    await appender.close();
    await dispatcher.close();
  }
  await compactResultsFile(plan.resultsPath, plan.records.values());
  return { ok: true, summary: summarise(options.file, plan, progress, finished) };
}

function runSettings(
  options: PostFileOptions,
): Omit<RowPostingOptions, 'endpoint' | 'dispatcher' | 'signal'> & { concurrency: number } {
  const concurrency = options.concurrency ?? DEFAULTS.concurrency;
  const retries = options.retries ?? DEFAULTS.retries;
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  if (!Number.isInteger(retries) || retries < 0)
    throw new RangeError(`retries must be a non-negative integer, got ${retries}`);
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${timeoutMs}`);
  return { concurrency, retries, timeoutMs, sleep: options.sleep ?? realSleep, random: options.random ?? Math.random };
}

/** Everything decided before the first post: where to, which rows, and what an earlier run finished. */
interface RunPlan {
  ok: true;
  endpoint: URL;
  resultsPath: string;
  rows: ParsedRow[];
  /** Results so far, latest per row; rows finished in this run are added as they finish. */
  records: Map<number, RowResult>;
  pending: ParsedRow[];
  skippedFailures: number;
}

async function planRun(options: PostFileOptions): Promise<RunPlan | { ok: false; reason: string }> {
  const endpoint = resolveEndpoint(options.url);
  if (!endpoint.ok) return refuse(`--url: ${endpoint.reason}`);
  const resultsPath = options.resultsPath ?? `${options.file}.results.csv`;
  if (path.resolve(resultsPath) === path.resolve(options.file))
    return refuse('the results file cannot be the input file');

  const file = await readRows(options.file);
  if (!file.ok) return file;
  const existing = await readResultsFile(resultsPath);
  if (!existing.ok) return existing;

  const repostFailed = options.repostFailed ?? false;
  const pending: ParsedRow[] = [];
  let skippedFailures = 0;
  for (const row of file.rows) {
    const recorded = existing.records.get(row.rowNumber);
    if (recorded && isFinished(recorded, rowIdentifiers(row), { repostFailed })) {
      if (!recorded.succeeded) skippedFailures++;
    } else {
      pending.push(row);
    }
  }
  return {
    ok: true,
    endpoint: endpoint.url,
    resultsPath,
    rows: file.rows,
    records: existing.records,
    pending,
    skippedFailures,
  };
}

function summarise(file: string, plan: RunPlan, progress: PostProgress, finished: number): PostSummary {
  const notPosted = plan.pending.length - finished;
  return {
    file,
    resultsPath: plan.resultsPath,
    endpoint: redactUrl(plan.endpoint),
    total: plan.rows.length,
    posted: progress.succeeded + progress.failed,
    succeeded: progress.succeeded,
    failed: progress.failed,
    skipped: progress.skipped,
    skippedFailures: plan.skippedFailures,
    notPosted,
    interrupted: notPosted > 0,
    allSucceeded: plan.rows.every((row) => {
      const record = plan.records.get(row.rowNumber);
      return record !== undefined && record.succeeded && matchesRow(record, rowIdentifiers(row));
    }),
  };
}

async function readRows(file: string): Promise<{ ok: true; rows: ParsedRow[] } | { ok: false; reason: string }> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (error) {
    return refuse(`cannot read ${file}: ${describeFileError(error)}`);
  }
  const decoded = decodeModificationFile(bytes);
  if (!decoded.ok) return refuse(`${file}: ${decoded.reason}`);
  const parsed = parseModificationFile(decoded.text);
  if (!parsed.ok) return refuse(`${file}: ${parsed.reason}`);
  return { ok: true, rows: parsed.rows };
}

/** Posts one row; null when the run was stopped before the row's answer could be recorded. */
async function postOneRow(row: ParsedRow, posting: RowPostingOptions): Promise<RowResult | null> {
  const base = { rowNumber: row.rowNumber, ...rowIdentifiers(row) };
  const extra = row.parameters.find((parameter) => parameter.name === EXTRA_FIELDS_PARAMETER);
  // The parser cannot tell which field is misplaced, so posting could change the wrong thing; refused
  // here with the message the server's batch gives for the same row.
  if (extra !== undefined) return { ...base, succeeded: false, message: extraFieldsMessage(extra.value) };
  const result = await postRow(formBody(row), posting);
  if (result.kind === 'interrupted') return null;
  if (result.kind === 'succeeded') return { ...base, succeeded: true, message: SUCCESS_MESSAGE };
  return { ...base, succeeded: false, message: withoutPassword(result.message, parameter(row, 'password')) };
}

/** The row's pairs as a form body: names as spelled in the header, empty cells left out. */
function formBody(row: ParsedRow): string {
  const form = new URLSearchParams();
  for (const { name, value } of row.parameters) if (value !== '') form.append(name, value);
  return form.toString();
}

function rowIdentifiers(row: ParsedRow): RowIdentifiers {
  return {
    transactionId: parameter(row, 'transactionid'),
    clickId: parameter(row, 'clickid'),
    merchantReferenceId: parameter(row, 'merchantreferenceid'),
    cid: parameter(row, 'cid'),
  };
}

/** A row's value for a column, matched case-insensitively like LinkTrust's parameter names. */
function parameter(row: ParsedRow, lowerCaseName: string): string {
  return row.parameters.find((pair) => asciiLowerCase(pair.name) === lowerCaseName)?.value ?? '';
}

/*
 * txedit never echoes the password, but the poster also talks to servers we did not write; a message
 * that repeats the row's password must not carry it into the results file or onto the screen.
 */
function withoutPassword(message: string, password: string): string {
  if (password.length < MIN_SCRUBBED_PASSWORD_LENGTH) return message;
  return message.split(password).join('***');
}

function describeFileError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return typeof (error as { message?: unknown }).message === 'string' ? (error as Error).message : String(error);
}

function refuse(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}
