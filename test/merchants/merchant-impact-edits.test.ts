import { testEngines } from '../support/databases';
import { useTestServer } from '../support/test-server';
import { impactActionOf, twoMerchants } from './merchant-scene';

let nextEventTypeId = 1_960_000_000 + (process.pid % 1000) * 1000;

describe.each(testEngines())('a merchant amending its impact.com actions by hand on %s', (engine) => {
  const context = useTestServer(engine);
  const services = () => context.server.services;

  /** An action of `campaignId` (sale 100.00, payout 10 %) with a reversing code CHARGEBACK. */
  const actionOf = (campaignId: number) =>
    impactActionOf(context.server.baseUrl, services(), campaignId, nextEventTypeId++);

  it('follows impact’s rules and codes, writes exact history as source merchant, and never touches another’s', async () => {
    const [acme, globex] = await twoMerchants(context.server.baseUrl, services());
    const own = await actionOf(acme.campaign.id);
    const foreign = await actionOf(globex.campaign.id);
    const form = await acme.client.get(`/admin/transactions/${own.id}`);
    expect(form.body).toContain('name="dispositionCode"');
    expect(form.body).not.toContain('name="affiliatePayout"');

    const amended = await acme.client.post(`/admin/transactions/${own.id}/amend`, {
      amount: '80.00',
      reason: 'partial return',
    });
    expect([amended.status, amended.location]).toEqual([303, `/admin/transactions/${own.id}?done=amended`]);
    const reversed = await acme.client.post(`/admin/transactions/${own.id}/amend`, {
      dispositionCode: 'CHARGEBACK',
      reason: 'chargeback from the bank',
    });
    expect(reversed.status).toBe(303);
    const history = await services().stores.modifications.listForTransaction(own.id);
    expect(history.map((m) => [m.source, m.actor, m.reason, m.after.merchantRevenue, m.after.affiliatePayout])).toEqual(
      [
        ['merchant', acme.email, 'partial return', 800000n, 80000n],
        // Reversed: impact's reversal takes the sale and the payout to nothing.
        ['merchant', acme.email, 'chargeback from the bank', 0n, 0n],
      ],
    );
    expect((await services().stores.transactions.getById(own.id))?.state).toBe('REVERSED');

    // impact's code, in the page, the typed values kept; nothing written.
    const late = await acme.client.post(`/admin/transactions/${own.id}/amend`, { amount: '70.00', reason: 'too late' });
    expect(late.status).toBe(409);
    expect(late.body).toContain('The action has already been reversed. (impact.com code ALREADY_REVERSED)');
    expect(late.body).toContain('value="70.00"');
    const unknown = await acme.client.post(`/admin/transactions/${own.id}/amend`, {
      dispositionCode: 'NO_SUCH_CODE',
      reason: 'x',
    });
    expect(unknown.body).toContain('BAD_DISPOSITION');
    expect(await services().stores.modifications.listForTransaction(own.id)).toHaveLength(2);

    const theirs = await acme.client.post(`/admin/transactions/${foreign.id}/amend`, {
      dispositionCode: 'CHARGEBACK',
      reason: 'not mine',
    });
    expect(theirs.status).toBe(404);
    expect(await services().stores.modifications.listForTransaction(foreign.id)).toEqual([]);
  });
});
