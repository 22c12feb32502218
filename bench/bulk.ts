import { bulkFile, impactBulkFile, successRequest } from './bench-data';
import { LoadResult, startLoad } from './load';

/** What the bulk scenario measured. */
export interface BulkResult {
  /** A Lead Poster file (tab-delimited) or an impact.com CSV of the same rows. */
  kind: 'lead-poster' | 'impact';
  rows: number;
  /** Upload start to the batch's completion as the polling saw it. */
  seconds: number;
  rowsPerSec: number;
  state: string;
  /** Rows the server had processed when the polling stopped. */
  processed: number;
  succeeded: number | null;
  failed: number | null;
  /** /transaction.edit success path at 10 connections while the batch ran. */
  concurrentEdits: LoadResult;
}

/** True when the admin API has the batches route (the bulk feature has landed). */
export async function batchesRouteExists(baseUrl: string, adminToken: string): Promise<boolean> {
  const response = await fetch(`${baseUrl}/api/v1/batches`, { headers: { Authorization: `Bearer ${adminToken}` } });
  await response.arrayBuffer();
  return response.ok;
}

type BatchStatus = { id?: string | number; state?: string; succeeded?: number; failed?: number; processed?: number };

async function readBatch(baseUrl: string, adminToken: string, id: string | number): Promise<BatchStatus> {
  const response = await fetch(`${baseUrl}/api/v1/batches/${encodeURIComponent(String(id))}`, {
    headers: { Authorization: `Bearer ${adminToken}` },
  });
  if (!response.ok) throw new Error(`GET /api/v1/batches/${id} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as BatchStatus;
}

/**
 * Uploads a `rows`-row tab-delimited file through POST /api/v1/batches, polls its status every 250 ms
 * until it is completed or failed (or `timeoutSeconds` pass), and meanwhile drives the success path of
 * /transaction.edit at 10 connections to show the server keeps answering.
 */
export async function runBulkScenario(options: {
  baseUrl: string;
  adminToken: string;
  transactions: number;
  rows: number;
  timeoutSeconds: number;
  kind: 'lead-poster' | 'impact';
}): Promise<BulkResult> {
  const { baseUrl, adminToken, kind } = options;
  const file = (kind === 'impact' ? impactBulkFile : bulkFile)(options.transactions, options.rows);
  const filename = kind === 'impact' ? `bench-${Date.now()}.csv` : `bench-${Date.now()}.txt`;
  const edits = startLoad({
    baseUrl,
    connections: 10,
    durationSeconds: options.timeoutSeconds + 30,
    next: () => successRequest(options.transactions),
  });
  const started = Date.now();
  let status: BatchStatus = {};
  try {
    const upload = await fetch(`${baseUrl}/api/v1/batches?filename=${filename}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'text/plain; charset=utf-8' },
      body: file,
    });
    if (upload.status !== 202 && upload.status !== 201) {
      throw new Error(`POST /api/v1/batches answered ${upload.status}: ${(await upload.text()).slice(0, 300)}`);
    }
    status = (await upload.json()) as BatchStatus;
    if (status.id === undefined) throw new Error('POST /api/v1/batches answered without an id');
    const id = status.id;
    const deadline = started + options.timeoutSeconds * 1000;
    while (status.state !== 'completed' && status.state !== 'failed' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      status = await readBatch(baseUrl, adminToken, id);
    }
  } finally {
    edits.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  return {
    kind,
    rows: options.rows,
    seconds,
    rowsPerSec: (status.state === 'completed' ? options.rows : (status.processed ?? 0)) / seconds,
    state: status.state ?? 'unknown',
    processed: status.state === 'completed' ? options.rows : (status.processed ?? 0),
    succeeded: status.succeeded ?? null,
    failed: status.failed ?? null,
    concurrentEdits: await edits.result,
  };
}
