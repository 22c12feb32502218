import { testEngines } from '../support/databases';
import { buildScene, buildTransaction, rollUpToNow, twoDaysAgo } from '../support/factories';
import { useTestServer } from '../support/test-server';
import { duringNightly, expectUntouched } from '../linktrust/edit-request';
import { consoleClient } from './console-client';

describe.each(testEngines())('amending a transaction by hand in the console on %s', (engine) => {
  const context = useTestServer(engine);
  const services = () => context.server.services;

  it('applies the form through the core, names the admin in the history and audits it with the change', async () => {
    const { campaign, affiliate } = await buildScene(services(), { allowExternalModification: false });
    const transaction = await buildTransaction(services(), campaign, affiliate, { occurredAt: twoDaysAgo() });
    await rollUpToNow(services());
    const client = await consoleClient(context.server.baseUrl);
    const page = await client.get(`/admin/transactions/${transaction.id}`);
    expect(page.body).toContain('Amend by hand');
    expect(page.body).toContain('name="affiliatePayout"');
    expect(page.body).not.toContain('name="dispositionCode"');
    const posted = await client.post(`/admin/transactions/${transaction.id}/amend`, {
      affiliatePayout: '7.1234',
      merchantRevenue: '',
      approved: 'no',
      reason: 'customer returned one item',
    });
    expect([posted.status, posted.location]).toEqual([303, `/admin/transactions/${transaction.id}?done=amended`]);
    const after = await client.get(posted.location!);
    expect(after.body).toContain('The transaction is amended');
    expect(after.body).toContain('By hand: <strong>admin-token</strong>');
    expect(after.body).toContain('customer returned one item');
    const stored = await services().stores.transactions.getById(transaction.id);
    expect([stored?.affiliatePayout, stored?.merchantRevenue, stored?.approved]).toEqual([71234n, 1000000n, false]);
    const [history] = await services().stores.modifications.listForTransaction(transaction.id);
    expect(history).toMatchObject({ source: 'admin', actor: 'admin-token', reason: 'customer returned one item' });
    const audit = await services().consoleAudit.recent({ limit: 5 });
    expect(audit[0]).toMatchObject({ action: 'transaction.amend', target: `transaction ${transaction.id}` });
  });

  it('keeps what was typed and says why when the change is refused or the form is wrong, writing nothing', async () => {
    const { campaign, affiliate } = await buildScene(services());
    const transaction = await buildTransaction(services(), campaign, affiliate, { occurredAt: twoDaysAgo() });
    await rollUpToNow(services());
    const client = await consoleClient(context.server.baseUrl);
    const form = { affiliatePayout: '3.3333', reason: 'typed with care' };
    const nightly = await duringNightly(services(), () =>
      client.post(`/admin/transactions/${transaction.id}/amend`, form),
    );
    expect(nightly.status).toBe(409);
    expect(nightly.body).toContain('Temporary failure: Nightly processing in progress');
    expect(nightly.body).toContain('value="3.3333"');
    expect(nightly.body).toContain('value="typed with care"');
    const malformed = await client.post(`/admin/transactions/${transaction.id}/amend`, {
      affiliatePayout: '3.33333',
      reason: 'too precise',
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toContain('Affiliate payout: give an amount like 12.50');
    expect(malformed.body).toContain('value="3.33333"');
    const noReason = await client.post(`/admin/transactions/${transaction.id}/amend`, { affiliatePayout: '1.00' });
    expect(noReason.status).toBe(400);
    expect(noReason.body).toContain('Say why');
    const forged = await client.post(`/admin/transactions/${transaction.id}/amend`, form, { csrf: 'forged' });
    expect(forged.status).toBe(403);
    await expectUntouched(services(), transaction);
    expect(await services().stores.modifications.listForTransaction(transaction.id)).toEqual([]);
  });
});
