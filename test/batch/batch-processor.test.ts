import { BatchProcessor, type BatchProcessorOptions } from '../../src/batch/batch-processor';
import { EXTRA_FIELDS_PARAMETER } from '../../src/batch/parse-file';
import { createLogger } from '../../src/logger';
import type { Batch } from '../../src/store/batch-store';
import type { ProcessingState } from '../../src/store/processing-state-store';
import { FakeBatchStore } from '../support/fakes/batch-fakes';
import { createFakeModificationService, FakeModificationService } from '../support/fakes/fake-modification-service';

/**
 * BatchProcessor on in-memory fakes (no database): each row's outcome in the core becomes its result
 * with /transaction.edit's message, on the chunk-at-once path and row by row. The same processing runs on
 * real databases in batch-processing.test.ts and chunked-processing.test.ts.
 */
describe('BatchProcessor (in memory)', () => {
  const batch = { id: 3, clientIp: '192.0.2.9' } as Batch;
  const processingState = (nightlyInProgress = false) => ({
    read: async () => ({ nightlyInProgress }) as ProcessingState,
  });

  function processor(
    store: FakeBatchStore,
    modifications: FakeModificationService,
    options: Partial<BatchProcessorOptions> & { rowByRow?: boolean; nightly?: boolean } = {},
  ) {
    const { rowByRow, nightly, ...tuning } = options;
    // Without modifyMany every row runs on its own, as with a core that has no chunk path.
    const core = rowByRow ? { modify: modifications.modify.bind(modifications) } : modifications;
    return new BatchProcessor(
      {
        store,
        modifications: core,
        processingState: processingState(nightly),
        logger: createLogger('silent'),
        now: () => 0,
      },
      { chunkSize: 50, concurrency: 4, leaseMs: 60_000, ...tuning },
    );
  }

  /** A file of every kind of row: applied, wrong password, unknown transaction, bad value, extra fields, two identifiers. */
  function scene() {
    const fake = createFakeModificationService();
    fake.catalogue.transaction(102, 7);
    const store = new FakeBatchStore([
      { Password: 'secret', TransactionID: '101', AP: '12.50' },
      { Password: 'wrong', TransactionID: '102', AP: '1' },
      { Password: 'secret', TransactionID: '999', AP: '1' },
      { Password: 'secret', TransactionID: '102', AP: 'x' },
      { Password: 'secret', TransactionID: '102', AP: '1', [EXTRA_FIELDS_PARAMETER]: '2' },
      { Password: 'secret', TransactionID: '102', ClickID: 'click-102', AP: '1' },
      { Password: 'secret', ClickID: 'click-102', A: 'no' },
    ]);
    return { ...fake, store };
  }

  const expected = [
    { rowNumber: 1, succeeded: true, message: 'Succeeded', transactionId: '101', clickId: '' },
    {
      rowNumber: 2,
      succeeded: false,
      message: 'Permanent failure: Invalid authentication credentials',
      transactionId: '102',
    },
    { rowNumber: 3, succeeded: false, message: 'Permanent failure: Invalid transaction specified' },
    { rowNumber: 4, succeeded: false, message: 'Permanent failure: Invalid parameter value for AP' },
    { rowNumber: 5, succeeded: false, message: 'Permanent failure: Row has 2 more fields than the header has columns' },
    { rowNumber: 6, succeeded: false, message: 'Permanent failure: Multiple transaction identifiers provided' },
    { rowNumber: 7, succeeded: true, message: 'Succeeded', transactionId: '', clickId: 'click-102' },
  ];

  it.each([
    ['in one unit of work per chunk', false],
    ['row by row', true],
  ])("answers each row with /transaction.edit's message and counts them, %s", async (_path, rowByRow) => {
    const { store, modifications, catalogue } = scene();
    expect(await processor(store, modifications, { rowByRow }).run(batch, 'worker', () => true)).toBe('completed');

    expect(store.results()).toMatchObject(expected);
    expect(store.completed).toBe(true);
    expect(store.counts).toEqual({ processed: 7, succeeded: 2, failed: 5 });
    expect(modifications.calls.modifyMany).toBe(rowByRow ? 0 : 1);
    const [t101, t102] = catalogue.transactions;
    expect(t101.affiliatePayout).toBe(125_000n);
    expect(t102).toMatchObject({ affiliatePayout: 1000n, approved: false });
    expect(modifications.history.map((row) => row.requestId)).toEqual(['batch-3-row-1', 'batch-3-row-7']);
  });

  it('applies rows naming one transaction in file order, so the last row has the last word', async () => {
    const { modifications, catalogue } = scene();
    const file = new FakeBatchStore(
      ['1', '2', '3', '4', '5', '6'].map((ap) => ({ Password: 'secret', TransactionID: '101', AP: ap })),
    );
    expect(await processor(file, modifications, { rowByRow: true }).run(batch, 'worker', () => true)).toBe('completed');
    expect(catalogue.transactions[0].affiliatePayout).toBe(60_000n);
    expect(file.counts).toEqual({ processed: 6, succeeded: 6, failed: 0 });
  });

  it('leaves a row refused for a passing reason for a later pass, then answers it with that refusal', async () => {
    const { store, modifications } = scene();
    modifications.trouble = (command) =>
      command.identifier.kind === 'click_id'
        ? { kind: 'temporary_failure', failureType: 'database unavailable' }
        : null;
    // One lane at a time: the deferred row (the last lane) meets its trouble after every other row is done.
    const work = processor(store, modifications, { maxDeferrals: 1, concurrency: 1 });

    expect(await work.run(batch, 'worker', () => true)).toBe('deferred');
    expect(store.results()[6]).toBeNull();
    expect(store.counts).toEqual({ processed: 6, succeeded: 1, failed: 5 });

    expect(await work.run(batch, 'worker', () => true)).toBe('completed');
    expect(store.results()[6]).toMatchObject({
      succeeded: false,
      message: 'Temporary failure: database unavailable LinkTrust API was unable to complete the request',
    });
    expect(store.counts).toEqual({ processed: 7, succeeded: 1, failed: 6 });
  });

  it('answers a transaction whose hour is not rolled up with "Hourly processing not completed"', async () => {
    const { store, modifications } = scene();
    modifications.rolledUpThrough = 0;
    expect(await processor(store, modifications).run(batch, 'worker', () => true)).toBe('completed');
    expect(store.results()[0]).toMatchObject({
      succeeded: false,
      message: 'Temporary failure: Hourly processing not completed',
    });
  });

  it('waits for nightly processing instead of running rows', async () => {
    const { store, modifications } = scene();
    expect(await processor(store, modifications, { nightly: true }).run(batch, 'worker', () => true)).toBe('paused');
    expect(store.results().every((result) => result === null)).toBe(true);
    expect(modifications.calls).toEqual({ modify: 0, modifyMany: 0 });
  });

  it('stops when the lease has passed to another worker', async () => {
    const { store, modifications } = scene();
    store.leaseLost = true;
    expect(await processor(store, modifications).run(batch, 'worker', () => true)).toBe('lease_lost');
  });
});
