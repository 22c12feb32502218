import { HandEditService, type HandEditServiceDeps } from '../../src/admin/hand-edit-service';
import { AdminError } from '../../src/http/admin-errors';
import { leadPosterRows } from '../../src/batch/run-row';
import { impactRows } from '../../src/impact/impact-batch-rows';
import type { Services } from '../../src/composition';
import { testEngines } from '../support/databases';
import { freshId } from '../support/factories';
import { useTestServer } from '../support/test-server';
import { impactActionOf, twoMerchants } from './merchant-scene';

let nextEventTypeId = 1_970_000_000 + (process.pid % 1000) * 1000;

type Scene = Awaited<ReturnType<typeof twoMerchants>>;

/**
 * A hand-edit service whose pre-check reads the campaign as it is and then lets `meanwhile` run before the
 * unit of work starts: the moment in which the network may hand the campaign to another merchant.
 */
function racingHandEdits(services: Services, meanwhile: () => Promise<void>): HandEditService {
  // The composition's own cores (LinkTrust's values and impact's), reached for the test only.
  const deps = (services.handEdits as unknown as { deps: HandEditServiceDeps }).deps;
  return new HandEditService({
    ...deps,
    campaigns: {
      get: async (id: number) => {
        const campaign = await deps.campaigns.get(id);
        await meanwhile();
        return campaign;
      },
    },
  });
}

/** Hands Acme's campaign to Globex (the network's PATCH, through the merchant service). */
async function handOver(services: Services, [acme, globex]: Scene) {
  await services.merchants.update(acme.merchant.id, { campaignIds: [] });
  await services.merchants.update(globex.merchant.id, { campaignIds: [globex.campaign.id, acme.campaign.id] });
}

async function notFoundOf(edit: Promise<unknown>): Promise<{ status: number; message: string } | 'applied'> {
  try {
    await edit;
    return 'applied';
  } catch (error) {
    if (!(error instanceof AdminError)) throw error;
    return { status: error.status, message: error.message };
  }
}

describe.each(testEngines())('a merchant’s campaign taken away during its change, on %s', (engine) => {
  const context = useTestServer(engine);
  const services = () => context.server.services;

  const actionOf = (campaignId: number) =>
    impactActionOf(context.server.baseUrl, services(), campaignId, nextEventTypeId++);

  const who = (scene: Scene[number]) => ({
    actor: scene.email,
    merchantId: scene.merchant.id,
    clientIp: '127.0.0.1',
    requestId: `race-${freshId()}`,
  });

  it('refuses a LinkTrust hand edit as not found, writing nothing', async () => {
    const scene = await twoMerchants(context.server.baseUrl, services());
    const [acme] = scene;
    const edits = racingHandEdits(services(), () => handOver(services(), scene));
    const answer = await notFoundOf(
      edits.amend(acme.transaction.id, { affiliatePayout: 123400n, reason: 'returned' }, who(acme)),
    );
    expect(answer).toEqual({ status: 404, message: `transaction ${acme.transaction.id} not found` });
    expect(await services().stores.modifications.listForTransaction(acme.transaction.id)).toEqual([]);
    expect((await services().stores.transactions.getById(acme.transaction.id))?.affiliatePayout).toBe(
      acme.transaction.affiliatePayout,
    );
  });

  it('refuses an impact.com hand edit as not found, and the new owner’s edit applies', async () => {
    const scene = await twoMerchants(context.server.baseUrl, services());
    const [acme, globex] = scene;
    const action = await actionOf(acme.campaign.id);
    const edits = racingHandEdits(services(), () => handOver(services(), scene));
    const answer = await notFoundOf(
      edits.amend(action.id, { dispositionCode: 'CHARGEBACK', reason: 'chargeback' }, who(acme)),
    );
    expect(answer).toEqual({ status: 404, message: `transaction ${action.id} not found` });
    expect((await services().stores.transactions.getById(action.id))?.state).toBe('PENDING');
    // The campaign is Globex's now: its user's edit goes through (the check is the owner, not a stale list).
    const applied = await services().handEdits.amend(
      action.id,
      { dispositionCode: 'CHARGEBACK', reason: 'chargeback' },
      who(globex),
    );
    expect([applied.modification.source, applied.modification.actor]).toEqual(['merchant', globex.email]);
  });

  it('lets the change through when the campaign stays the merchant’s (the race hook itself changes nothing)', async () => {
    const scene = await twoMerchants(context.server.baseUrl, services());
    const [acme] = scene;
    const edits = racingHandEdits(services(), async () => undefined);
    const applied = await edits.amend(acme.transaction.id, { affiliatePayout: 123400n, reason: 'returned' }, who(acme));
    expect(applied.transaction.affiliatePayout).toBe(123400n);
  });
});

describe('a merchant’s batch rows carry the merchant to the core', () => {
  const modifications = { modify: async () => ({ kind: 'temporary_failure' as const, failureType: 'x' }) };
  const batch = { id: 7, clientIp: '127.0.0.1', campaignId: null, merchantCampaignIds: [3, 4], merchantId: 12 };

  it('on Lead Poster rows', () => {
    const row = {
      rowNumber: 1,
      parameters: [
        { name: 'TransactionID', value: '55' },
        { name: 'AP', value: '1.00' },
      ],
    };
    const prepared = leadPosterRows(modifications).prepare(row, batch);
    expect(prepared.kind === 'command' && [prepared.command.merchantId, prepared.command.identifier]).toEqual([
      12,
      { kind: 'transaction_id', transactionId: 55, campaignId: null, campaignIds: [3, 4] },
    ]);
    const network = leadPosterRows(modifications).prepare(row, { id: 7, clientIp: null });
    expect(network.kind === 'command' && network.command.merchantId).toBeUndefined();
  });

  it('on impact.com rows', () => {
    const row = {
      rowNumber: 1,
      parameters: [
        { name: 'ActionId', value: '2000.1' },
        { name: 'Amount', value: '10.00' },
        { name: 'Reason', value: 'ORDER_UPDATE' },
      ],
    };
    const prepared = impactRows({ modifications, accountCurrency: 'USD' }).prepare(row, batch);
    expect(prepared.kind === 'command' && prepared.command.merchantId).toBe(12);
  });
});

describe.each(testEngines().filter((engine) => engine === 'mysql'))(
  'a merchant’s change waiting on a hand-over not yet committed, on %s',
  (engine) => {
    const context = useTestServer(engine);
    const services = () => context.server.services;

    it('waits for the hand-over under its row lock, then answers not found', async () => {
      const scene = await twoMerchants(context.server.baseUrl, services());
      const [acme, globex] = scene;
      const knex = services().db.knex;
      const handOver = await knex.transaction();
      try {
        // The network's hand-over, written and not yet committed: the row is locked by it.
        await handOver('campaigns').where({ id: acme.campaign.id }).update({ merchant_id: globex.merchant.id });
        const edit = notFoundOf(
          services().handEdits.amend(
            acme.transaction.id,
            { affiliatePayout: 123400n, reason: 'returned' },
            { actor: acme.email, merchantId: acme.merchant.id, clientIp: '127.0.0.1', requestId: `race-${freshId()}` },
          ),
        );
        // The edit's pre-checks read the committed owner (Acme) and pass; under its lock it waits for ours.
        const settled = edit.then(() => 'settled' as const);
        for (let waited = 0; ; waited += 1) {
          // The edit's read of the owners, running: it can only be waiting, since our update holds the row.
          const [waiting] = await knex.raw(
            `select count(*) as n from information_schema.processlist
              where db = database() and info like 'select id, merchant_id from campaigns where id in%lock in share mode'`,
          );
          if (Number(waiting[0].n) > 0) break;
          const first = await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, 50, 'polling'))]);
          if (first === 'settled')
            throw new Error(`the edit did not wait for the hand-over: ${JSON.stringify(await edit)}`);
          if (waited > 400) throw new Error('the edit never reached the campaign row');
        }
        await handOver.commit();
        expect(await edit).toEqual({ status: 404, message: `transaction ${acme.transaction.id} not found` });
        expect(await services().stores.modifications.listForTransaction(acme.transaction.id)).toEqual([]);
      } finally {
        if (!handOver.isCompleted()) await handOver.rollback();
      }
    });
  },
);
