import { BatchService, type UploadResult } from '../../src/batch/batch-service';
import { parseModificationFile } from '../../src/batch/parse-file';
import type { RowResult } from '../../src/core/row-result';
import type { Batch, BatchRow, NewBatch } from '../../src/store/batch-store';

/**
 * A store that keeps batches in memory, claims content like the real one, and records the slices in
 * which it was handed each batch's rows (and what had happened by the time it was asked to store).
 */
class FakeBatchStore {
  readonly batches: Batch[] = [];
  readonly slicesByBatch = new Map<number, BatchRow[][]>();
  onCreate: () => void = () => undefined;

  async create(
    batch: NewBatch,
    rows: AsyncIterable<BatchRow[]> | Iterable<BatchRow[]>,
  ): Promise<{ batch: Batch } | { originalId: number }> {
    this.onCreate();
    const original = this.batches.find(
      (b) => b.contentSha256 === batch.contentSha256 && b.duplicateOf === null && b.error === null,
    );
    if (batch.duplicateOf === null && !batch.error && original) return { originalId: original.id };
    const slices: BatchRow[][] = [];
    for await (const slice of rows) slices.push(slice);
    const stored: Batch = {
      ...batch,
      kind: batch.kind ?? 'lead-poster',
      channel: batch.channel ?? 'api',
      campaignId: batch.campaignId ?? null,
      merchantId: batch.merchantId ?? null,
      submittedBy: batch.submittedBy ?? null,
      id: this.batches.length + 1,
      processed: 0,
      succeeded: 0,
      failed: 0,
      error: batch.error ?? null,
      leaseOwner: null,
      leaseExpiresAt: null,
      startedAt: null,
    };
    this.batches.push(stored);
    this.slicesByBatch.set(stored.id, slices);
    return { batch: stored };
  }

  async get(id: number): Promise<Batch | null> {
    return this.batches.find((b) => b.id === id) ?? null;
  }

  async list(): Promise<Batch[]> {
    return [...this.batches].reverse();
  }

  async codeCounts(): Promise<Map<number, Array<{ code: string; count: number }>>> {
    return new Map();
  }
  async results(): Promise<RowResult[]> {
    return [];
  }
}

const HEADER = ['Password', 'TransactionID', 'AP', 'MP', 'A'];

/** A tab-delimited file of `count` rows (CRLF), every row a different transaction. */
function fileOf(count: number, firstId = 1000): string {
  const lines = [HEADER.join('\t')];
  for (let i = 0; i < count; i++) lines.push(['pw', String(firstId + i), '1.00', '2.00', 'yes'].join('\t'));
  return `${lines.join('\r\n')}\r\n`;
}

function setUp() {
  const store = new FakeBatchStore();
  const service = new BatchService({ store, now: () => 1_700_000_000_000 });
  const upload = (text: string, force = false): Promise<UploadResult> =>
    service.upload({ filename: 'mods.txt', bytes: Buffer.from(text, 'utf8'), clientIp: '127.0.0.1', force });
  return { store, service, upload };
}

const sliceSizes = (slices: BatchRow[][] | undefined) => (slices ?? []).map((slice) => slice.length);

describe('BatchService.upload: reading a large file in slices', () => {
  it('hands the store the rows in slices of 1,000 while it reads them, the last slice short', async () => {
    const { store, upload } = setUp();
    const text = fileOf(2500);

    const result = await upload(text);

    expect(result).toMatchObject({ ok: true, batch: { records: 2500, state: 'queued' } });
    const slices = store.slicesByBatch.get(1);
    expect(sliceSizes(slices)).toEqual([1000, 1000, 500]);
    const whole = parseModificationFile(text);
    expect(whole.ok && slices?.flat()).toEqual(whole.ok && whole.rows);
  });

  it('sends no empty slice when the row count is an exact multiple of the slice size', async () => {
    const { store, upload } = setUp();

    await upload(fileOf(3000));

    expect(sliceSizes(store.slicesByBatch.get(1))).toEqual([1000, 1000, 1000]);
    expect(store.slicesByBatch.get(1)?.[2]?.at(-1)?.rowNumber).toBe(3000);
  });

  it('lets timers run while it reads a large upload, before it stores anything', async () => {
    const { store, upload } = setUp();
    let timerRan = false;
    let timerRanBeforeStore: boolean | undefined;
    store.onCreate = () => {
      timerRanBeforeStore ??= timerRan;
    };

    const uploading = upload(fileOf(20_000));
    setImmediate(() => {
      timerRan = true;
    });
    const result = await uploading;

    expect(result).toMatchObject({ ok: true, batch: { records: 20_000 } });
    expect(timerRanBeforeStore).toBe(true);
  });

  it('counts a duplicate by its rows but hands them over only when it is forced', async () => {
    const { store, upload } = setUp();
    const text = fileOf(1500);
    await upload(text);

    const duplicate = await upload(text);
    const forced = await upload(text, true);

    expect(duplicate).toMatchObject({
      ok: true,
      batch: { id: 2, duplicateOf: 1, forced: false, state: 'completed', records: 1500 },
    });
    expect(sliceSizes(store.slicesByBatch.get(2))).toEqual([]);
    expect(forced).toMatchObject({
      ok: true,
      batch: { id: 3, duplicateOf: 1, forced: true, state: 'queued', records: 1500 },
    });
    expect(sliceSizes(store.slicesByBatch.get(3))).toEqual([1000, 500]);
  });

  it('refuses a large file whose last row opens a quote that is never closed, storing nothing', async () => {
    const { store, upload } = setUp();

    const result = await upload(`${fileOf(2000)}pw\t"9999\t1.00\t2.00\tyes\r\n`);

    expect(result).toEqual({ ok: false, reason: 'row 2001 opens a quoted field that is never closed' });
    expect(store.batches).toEqual([]);
  });

  it('refuses a binary or empty file without asking the store', async () => {
    const { store, service, upload } = setUp();
    let created = false;
    store.onCreate = () => {
      created = true;
    };

    const binary = await service.upload({
      filename: 'x.png',
      bytes: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]),
      clientIp: '127.0.0.1',
      force: false,
    });

    expect(binary).toEqual({ ok: false, reason: 'the file is not a text file (binary content)' });
    expect(await upload('')).toEqual({ ok: false, reason: 'the file is empty' });
    expect(created).toBe(false);
  });
});
