import { consoleClient } from '../console/console-client';
import { buildCampaign } from '../support/factories';
import { spawnServer } from '../support/spawn-server';
import { startTcpProxy, throughProxy } from '../support/tcp-proxy';
import { eventually, servicesOver, useSpawnedServers } from './fault-helpers';

const TOKEN = 'audit-kill-token-0123456789abcdef012';

// A proxy between server and database lets the test kill the server at an exact statement; SQLite has no
// such seam, and there the audit failure injection (test/console/console-audit-atomic.test.ts) shows the
// entry and the change share one transaction.
const describeOnMariaDb = process.env.TEST_MYSQL_URL ? describe : describe.skip;

describeOnMariaDb('kill -9 of the server as a console change commits (MariaDB through a proxy)', () => {
  const context = useSpawnedServers('mysql');

  it('leaves the change with its audit row: the first COMMIT after the change carries both', async () => {
    const { database, servers } = context;
    if (database.config.client !== 'mysql') throw new Error('expected a MariaDB test database');
    const services = servicesOver(database.db);
    const campaign = await buildCampaign(services, { whitelistOnly: false });
    await services.close();
    const proxy = await startTcpProxy();
    try {
      const env = {
        DATABASE_URL: throughProxy(database.config.url, proxy),
        ADMIN_TOKEN: TOKEN,
        NIGHTLY_SCHEDULE: 'off',
        POSTBACK_WORKER: 'false',
        BATCH_WORKER: 'false',
        // Its lease claims commit every second: the armed kill must meet the console change's COMMIT.
        IMPACT_API_WORKER: 'false',
      };
      const startedAt = Date.now();
      const server = await spawnServer(env);
      servers.push(server);
      // Preparation (migrations' lock, with its own COMMIT) is over once the scheduler it starts has run its roll-up.
      await eventually('the start-up roll-up', async () => {
        const state = await database.db.knex('processing_state').where({ id: 1 }).first();
        return Number(state.hourly_last_run_at) >= startedAt ? true : undefined;
      });
      const client = await consoleClient(server.baseUrl, { secret: TOKEN });

      proxy.afterClientSends('commit', () => server.kill('SIGKILL'));
      const answer = await client
        .post(`/admin/campaigns/${campaign.id}/settings`, {
          allowExternalModification: 'on',
          whitelistOnly: 'on',
          uniqueMerchantReference: 'on',
        })
        .then(
          () => 'answered',
          () => 'no answer',
        );
      expect(answer).toBe('no answer');
      expect(await server.exited).toEqual({ code: null, signal: 'SIGKILL' });

      const { knex } = database.db;
      expect(Boolean((await knex('campaigns').where({ id: campaign.id }).first()).whitelist_only)).toBe(true);
      const audit = await knex('console_audit').where({
        action: 'campaign.settings',
        target: `campaign ${campaign.id}`,
      });
      expect(audit.map((row: { actor: string; details: string }) => [row.actor, JSON.parse(row.details)])).toEqual([
        ['admin-token', { whitelistOnly: { before: false, after: true } }],
      ]);
    } finally {
      await proxy.close();
    }
  }, 120_000);
});
