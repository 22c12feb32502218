import * as batchSources from '../../db/migrations/20261205150000_batch_sources';
import { BatchService } from '../../src/batch/batch-service';
import { BatchStore } from '../../src/store/batch-store';
import { SqlRunner } from '../../src/store/sql';
import { createTestDatabase, testEngines, type TestDatabase } from '../support/databases';

const impactFile = (oid: string) => Buffer.from(`ActionTrackerId,Oid,Amount,Reason\n9001,${oid},0,RETURNED\n`, 'utf8');

describe.each(testEngines())('where batches come from, on %s', (engine) => {
  let database: TestDatabase;
  let service: BatchService;
  let clock = 1_000;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    const store = new BatchStore(database.db.knex, new SqlRunner(database.db.knex, database.db.engine));
    service = new BatchService({ store, now: () => clock++ });
  });
  afterAll(() => database.drop());

  it('keeps channel, campaign and sender, and lists by kind, campaigns and creation time', async () => {
    const upload = (filename: string, bytes: Buffer, extra: object) =>
      service.upload({ filename, bytes, clientIp: '127.0.0.1', force: false, ...extra });
    const admin = await upload('lp.txt', Buffer.from('TransactionID\tAP\tPassword\n1\t2\tsecret\n'), {});
    const ftp = await upload('a.csv', impactFile('A-1'), { channel: 'ftp', campaignId: 7, submittedBy: 'brand7' });
    const mail = await upload('b.csv', impactFile('B-1'), {
      channel: 'email',
      campaignId: 8,
      submittedBy: 'ops@brand8.example',
    });
    for (const result of [admin, ftp, mail]) expect(result.ok ? 'ok' : result.reason).toBe('ok');
    if (!admin.ok || !ftp.ok || !mail.ok) return;
    expect(admin.batch).toMatchObject({ channel: 'api', campaignId: null, submittedBy: null, kind: 'lead-poster' });
    expect(ftp.batch).toMatchObject({ channel: 'ftp', campaignId: 7, submittedBy: 'brand7', kind: 'impact' });
    expect(await service.get(mail.batch.id)).toMatchObject({ channel: 'email', campaignId: 8 });

    const ids = async (options: Parameters<BatchService['list']>[0]) => (await service.list(options)).map((b) => b.id);
    expect(await ids({ limit: 10 })).toEqual([mail.batch.id, ftp.batch.id, admin.batch.id]);
    expect(await ids({ limit: 10, kind: 'impact' })).toEqual([mail.batch.id, ftp.batch.id]);
    expect(await ids({ limit: 10, campaignIds: [7] })).toEqual([ftp.batch.id]);
    expect(await ids({ limit: 10, campaignIds: [] })).toEqual([]);
    expect(await ids({ limit: 10, createdFrom: ftp.batch.createdAt, createdTo: ftp.batch.createdAt })).toEqual([
      ftp.batch.id,
    ]);
    expect(await ids({ limit: 1, beforeId: mail.batch.id, kind: 'impact' })).toEqual([ftp.batch.id]);
  });

  it('migration goes down and up again keeping the batches, and up is safe to re-run', async () => {
    const { knex } = database.db;
    const before = await knex('batches').count({ n: '*' });
    await batchSources.down(knex);
    for (const column of ['channel', 'campaign_id', 'submitted_by'])
      expect(await knex.schema.hasColumn('batches', column)).toBe(false);
    await batchSources.up(knex);
    await batchSources.up(knex);
    expect(await knex('batches').count({ n: '*' })).toEqual(before);
    expect(await knex('batches').distinct('channel')).toEqual([{ channel: 'api' }]);
  });
});
