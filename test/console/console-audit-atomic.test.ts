import type { Knex } from 'knex';
import { ConsoleAuditLog } from '../../src/console/console-audit';
import { ConsoleAuditStore, NewAuditEntry } from '../../src/store/console-audit-store';
import type { Sql } from '../../src/store/sql';
import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';
import { buildAffiliate, buildScene, buildTransaction, rollUpToNow } from '../support/factories';
import { editByGet } from '../support/linktrust-xml';
import { startTestServer, TestServer, TEST_ADMIN_TOKEN } from '../support/test-server';
import { consoleClient, ConsoleClient, postSignIn } from './console-client';

/** The console's audit store with a switch: when on, the audit insert fails (the change's own statements have run). */
class FailingAuditStore extends ConsoleAuditStore {
  failing = false;
  override async append(sql: Sql, entry: NewAuditEntry): Promise<number> {
    if (this.failing) throw new Error('audit insert failed');
    return super.append(sql, entry);
  }
}

/** One audited console action: what it does, and what of its change can be seen in the database. */
interface AuditedAction {
  action: string;
  /** Sets up what the action needs; returns what `act` and `observe` use. */
  prepare(): Promise<Record<string, unknown>>;
  act(client: ConsoleClient, scene: Record<string, unknown>): Promise<{ status: number }>;
  /** The state the action changes, as plain JSON. */
  observe(knex: Knex, scene: Record<string, unknown>): Promise<unknown>;
}

describe.each(testEngines())('console audit rows in the same unit of work as the change, on %s', (engine) => {
  let database: TestDatabase;
  let server: TestServer;
  const auditStore: { current: FailingAuditStore | null } = { current: null };
  beforeAll(async () => {
    database = await createTestDatabase(engine);
    server = await startTestServer(
      database.db,
      {},
      {
        beforeApp: (services) => {
          auditStore.current = new FailingAuditStore(services.db.knex);
          services.consoleAudit = new ConsoleAuditLog(auditStore.current, services.stores.units);
        },
      },
    );
    await rollUpToNow(server.services);
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  const knex = () => server.services.db.knex;
  const auditRows = async (action: string) =>
    (await knex()('console_audit').where({ action }).orderBy('id')).map((row: Record<string, unknown>) => ({
      target: row.target,
      details: row.details,
    }));

  const ACTIONS: AuditedAction[] = [
    {
      action: 'campaign.settings',
      prepare: async () => ({ campaignId: (await buildScene(server.services)).campaign.id }),
      act: (client, s) =>
        client.post(`/admin/campaigns/${s.campaignId}/settings`, {
          allowExternalModification: 'on',
          whitelistOnly: 'on',
          uniqueMerchantReference: 'on',
        }),
      observe: async (k, s) => Boolean((await k('campaigns').where({ id: s.campaignId }).first()).whitelist_only),
    },
    {
      action: 'campaign.password_rotated',
      prepare: async () => ({ campaignId: (await buildScene(server.services)).campaign.id }),
      act: (client, s) =>
        client.post(`/admin/campaigns/${s.campaignId}/password`, { password: 'a-new-secret', confirm: 'a-new-secret' }),
      observe: async (k, s) => (await k('campaigns').where({ id: s.campaignId }).first()).password_hash,
    },
    {
      action: 'whitelist.add',
      prepare: async () => ({ campaignId: (await buildScene(server.services)).campaign.id }),
      act: (client, s) =>
        client.post('/admin/whitelist', {
          address: '198.51.100.7',
          campaignId: String(s.campaignId),
          note: 'audit test',
          returnTo: '/admin/whitelist',
        }),
      observe: async (k, s) => (await k('whitelist_entries').where({ campaign_id: s.campaignId })).length,
    },
    {
      action: 'whitelist.remove',
      prepare: async () => {
        const { campaign } = await buildScene(server.services);
        const entry = await server.services.admin.addWhitelistEntry({
          address: '203.0.113.9',
          campaignId: campaign.id,
        });
        return { entryId: entry.id };
      },
      act: (client, s) => client.post(`/admin/whitelist/${s.entryId}/remove`, { returnTo: '/admin/whitelist' }),
      observe: async (k, s) => (await k('whitelist_entries').where({ id: s.entryId })).length,
    },
    {
      action: 'postback.retry',
      prepare: async () => {
        const { campaign } = await buildScene(server.services);
        const affiliate = await buildAffiliate(server.services, {
          postbackUrl: 'http://127.0.0.1:9/pb?t=[=_TransID=]',
        });
        const transaction = await buildTransaction(server.services, campaign, affiliate);
        const edit = await editByGet(server.baseUrl, {
          Password: campaign.password as string,
          TransactionID: String(transaction.id),
          AP: '1.00',
          executeaffiliatepixel: 'yes',
        });
        expect(edit.answer.succeeded).toBe('True');
        const delivery = await knex()('postback_deliveries').where({ transaction_id: transaction.id }).first();
        await knex()('postback_deliveries')
          .where({ id: delivery.id })
          .update({ status: 'failed', finished_at: Date.now() });
        return { deliveryId: Number(delivery.id) };
      },
      act: (client, s) => client.post(`/admin/postbacks/${s.deliveryId}/retry`, {}),
      observe: async (k, s) => (await k('postback_deliveries').where({ id: s.deliveryId }).first()).status,
    },
    {
      action: 'batch.upload',
      prepare: async () => {
        const { campaign, transaction } = await buildScene(server.services);
        return {
          file: `Password,TransactionID,AP\r\n${campaign.password},${transaction.id},3.00\r\n`,
          name: `audit-${transaction.id}.csv`,
        };
      },
      act: async (client, s) => {
        const form = new FormData();
        form.append('_csrf', client.csrf);
        form.append('file', new Blob([s.file as string], { type: 'text/csv' }), s.name as string);
        return fetch(`${server.baseUrl}/admin/batches`, {
          method: 'POST',
          headers: { cookie: client.cookie },
          body: form,
          redirect: 'manual',
        });
      },
      observe: async (k, s) => (await k('batches').where({ filename: s.name })).length,
    },
    {
      action: 'processing.hourly',
      prepare: async () => ({}),
      act: (client) => client.post('/admin/processing/hourly', { through: '' }),
      observe: async (k) => String((await k('processing_state').where({ id: 1 }).first()).hourly_last_run_at),
    },
    {
      action: 'processing.nightly',
      prepare: async () => {
        // A day of its own, with a transaction, not processed yet.
        const date = new Date(Date.now() - (20 + Math.floor(Math.random() * 300)) * 86_400_000)
          .toISOString()
          .slice(0, 10);
        const { campaign, affiliate } = await buildScene(server.services);
        await server.services.admin.createTransaction({
          campaignId: campaign.id,
          affiliateId: affiliate.id,
          affiliatePayout: 10_000n,
          merchantRevenue: 20_000n,
          occurredAt: Date.parse(`${date}T05:00:00Z`),
        });
        return { date };
      },
      act: (client, s) => client.post('/admin/processing/nightly', { date: s.date as string }),
      observe: async (k, s) => ({
        daily: (await k('daily_statistics').where({ report_date: s.date })).length,
        completed: (await k('nightly_runs').where({ report_date: s.date }).whereNotNull('completed_at')).length,
      }),
    },
    {
      action: 'processing.nightly_hold',
      prepare: async () => ({}),
      act: (client) => client.post('/admin/processing/nightly-state', { inProgress: 'true' }),
      observe: async (k) => Boolean((await k('processing_state').where({ id: 1 }).first()).nightly_in_progress),
    },
    {
      action: 'processing.nightly_release',
      prepare: async () => {
        await server.services.processing.holdNightly(true);
        return {};
      },
      act: (client) => client.post('/admin/processing/nightly-state', { inProgress: 'false' }),
      observe: async (k) => Boolean((await k('processing_state').where({ id: 1 }).first()).nightly_in_progress),
    },
    {
      action: 'session.sign_out',
      prepare: async () => ({}),
      act: (client) => client.post('/admin/sign-out', {}),
      observe: async (k, s) => (await k('console_sessions')).length - (s.sessionsBefore as number),
    },
  ];

  describe.each(ACTIONS.map((a) => [a.action, a] as const))('%s', (action, audited) => {
    it('writes its audit row with the change', async () => {
      const scene = await audited.prepare();
      const client = await consoleClient(server.baseUrl);
      scene.sessionsBefore = (await knex()('console_sessions')).length;
      const before = await audited.observe(knex(), scene);
      const rowsBefore = (await auditRows(action)).length;
      const answer = await audited.act(client, scene);
      expect(answer.status).toBeLessThan(400);
      expect(await audited.observe(knex(), scene)).not.toEqual(before);
      expect(await auditRows(action)).toHaveLength(rowsBefore + 1);
      if (action === 'processing.nightly_hold') await server.services.processing.holdNightly(false);
    });

    it('makes no change when its audit row cannot be written', async () => {
      const scene = await audited.prepare();
      const client = await consoleClient(server.baseUrl);
      scene.sessionsBefore = (await knex()('console_sessions')).length;
      const before = await audited.observe(knex(), scene);
      const rowsBefore = (await auditRows(action)).length;
      (auditStore.current as FailingAuditStore).failing = true;
      try {
        const answer = await audited.act(client, scene);
        expect(answer.status).toBe(500);
      } finally {
        (auditStore.current as FailingAuditStore).failing = false;
      }
      expect(await audited.observe(knex(), scene)).toEqual(before);
      expect(await auditRows(action)).toHaveLength(rowsBefore);
      await server.services.processing.holdNightly(false);
    });
  });

  it('signs in with its audit row, or not at all when the row cannot be written', async () => {
    const count = async () => ({
      sessions: (await knex()('console_sessions')).length,
      audited: (await auditRows('session.sign_in')).length,
    });
    const before = await count();
    expect((await postSignIn(server.baseUrl, { secret: TEST_ADMIN_TOKEN })).status).toBe(303);
    expect(await count()).toEqual({ sessions: before.sessions + 1, audited: before.audited + 1 });
    (auditStore.current as FailingAuditStore).failing = true;
    try {
      expect((await postSignIn(server.baseUrl, { secret: TEST_ADMIN_TOKEN })).status).toBe(500);
    } finally {
      (auditStore.current as FailingAuditStore).failing = false;
    }
    expect(await count()).toEqual({ sessions: before.sessions + 1, audited: before.audited + 1 });
  });
});
