import { testEngines } from '../support/databases';
import { buildAffiliate, buildCampaign, buildTransaction, rollUpToNow, twoDaysAgo } from '../support/factories';
import { editByGet } from '../support/linktrust-xml';
import { useTestServer } from '../support/test-server';
import { statisticsMismatches } from '../faults/fault-helpers';

// EDIT_COALESCING=false: the switch an operator (or the bench) uses to run every change in a unit of its own.
describe.each(testEngines())('EDIT_COALESCING=false on %s', (engine) => {
  const context = useTestServer(engine, { EDIT_COALESCING: 'false' });
  const services = () => context.server.services;

  it('gives each concurrent edit a unit of its own, each applied once, the history chained', async () => {
    const affiliate = await buildAffiliate(services());
    const campaign = await buildCampaign(services());
    const transaction = await buildTransaction(services(), campaign, affiliate, { occurredAt: twoDaysAgo() });
    await rollUpToNow(services());
    const edit = (ap: string) =>
      editByGet(context.server.baseUrl, {
        Password: campaign.password as string,
        TransactionID: String(transaction.id),
        AP: ap,
      });
    expect((await edit('1.00')).answer.succeeded).toBe('True');
    const before = services().modifications.coalescing();
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => edit(`${i + 2}.00`)));
    expect(answers.map((a) => a.answer.succeeded)).toEqual(answers.map(() => 'True'));
    const after = services().modifications.coalescing();
    // Every edit took the one-unit path, and no unit held two.
    expect([after.changes - before.changes, after.units - before.units]).toEqual([20, 20]);
    const rows = await services().stores.modifications.listForTransaction(transaction.id);
    expect(rows).toHaveLength(21);
    rows.slice(1).forEach((row, k) => expect(row.before).toEqual(rows[k].after));
    expect(await statisticsMismatches(services().db.knex)).toEqual([]);
  });
});

// A database of its own: the statistics check needs the transactions rolled up after they exist.
describe.each(testEngines())('EDIT_COALESCING=false with Idempotency-Key on %s', (engine) => {
  const context = useTestServer(engine, { EDIT_COALESCING: 'false' });
  const services = () => context.server.services;

  it('gives keyed edits units of their own too: twins replay the first answer, each key applies once', async () => {
    const affiliate = await buildAffiliate(services());
    const campaign = await buildCampaign(services());
    const transaction = await buildTransaction(services(), campaign, affiliate, { occurredAt: twoDaysAgo() });
    await rollUpToNow(services());
    const edit = (ap: string, key?: string) =>
      editByGet(context.server.baseUrl, {
        Password: campaign.password as string,
        TransactionID: String(transaction.id),
        AP: ap,
        ...(key ? { IdempotencyKey: key } : {}),
      });
    expect((await edit('1.00')).answer.succeeded).toBe('True');
    const before = services().modifications.coalescing();
    // Five keys, each sent four times at once with the same parameters.
    const keys = Array.from({ length: 5 }, (_, k) => `off-${process.pid}-${Date.now()}-${k}`);
    const sent = keys.flatMap((key, k) => Array.from({ length: 4 }, () => ({ key, ap: `${k + 2}.00` })));
    const answers = await Promise.all(sent.map(({ key, ap }) => edit(ap, key)));
    const after = services().modifications.coalescing();
    expect(answers.map((a) => a.answer.succeeded)).toEqual(answers.map(() => 'True'));
    for (const key of keys) {
      const bodies = new Set(sent.flatMap((s, i) => (s.key === key ? [answers[i].body] : [])));
      expect(bodies.size).toBe(1);
    }
    // Every keyed edit took the one-unit path, no unit held two, and each key applied once.
    expect([after.changes - before.changes, after.units - before.units, after.keyed - before.keyed]).toEqual([
      20, 20, 20,
    ]);
    const rows = await services().stores.modifications.listForTransaction(transaction.id);
    expect(rows).toHaveLength(1 + keys.length);
    rows.slice(1).forEach((row, k) => expect(row.before).toEqual(rows[k].after));
    expect(await services().db.knex('idempotency_keys').where({ transaction_id: transaction.id })).toHaveLength(5);
    expect(await statisticsMismatches(services().db.knex)).toEqual([]);
  });
});
