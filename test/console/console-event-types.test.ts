import { testEngines } from '../support/databases';
import { buildCampaign } from '../support/factories';
import { useTestServer } from '../support/test-server';
import { consoleClient, ConsoleClient } from './console-client';

let nextSuppliedId = 1_800_000_000 - (process.pid % 1000) * 100_000;

describe.each(testEngines())('console: event types over HTTP on %s', (engine) => {
  const context = useTestServer(engine);
  let client: ConsoleClient;
  beforeAll(async () => {
    client = await consoleClient(context.server.baseUrl);
  });
  const services = () => context.server.services;
  const lastAudit = async () => (await services().consoleAudit.recent({ limit: 1 }))[0];
  const form = (fields: Record<string, string>) => ({
    name: 'Online sale',
    lockingDays: '30',
    payoutType: 'percent',
    payoutValue: '12.5',
    codes: '',
    ...fields,
  });

  it('links the Event types page from the menu, with the create form', async () => {
    const page = await client.get('/admin/campaigns');
    expect(page.body).toContain('<a href="/admin/event-types">Event types</a>');
    const list = await client.get('/admin/event-types');
    expect(list.status).toBe(200);
    expect(list.body).toContain('<a href="/admin/event-types" aria-current="page">Event types</a>');
    expect(list.body).toContain('<form class="stack" method="post" action="/admin/event-types">');
  });

  it('creates an event type with a given id and custom codes, recording the audit row with it', async () => {
    const campaign = await buildCampaign(services());
    const id = nextSuppliedId--;
    const created = await client.post(
      '/admin/event-types',
      form({
        id: String(id),
        campaignId: String(campaign.id),
        lockingDays: '45',
        codes: 'Late_Return reverse\r\n\r\n  VIP.ok   APPROVE \r\nlate_return modify',
      }),
    );
    expect([created.status, created.location]).toEqual([303, `/admin/event-types/${id}?done=event-type-created`]);
    expect(await services().eventTypes.get(id)).toMatchObject({
      campaignId: campaign.id,
      name: 'Online sale',
      lockingDays: 45,
      payout: { type: 'percent', value: 125_000n },
      dispositionCodes: [
        { code: 'Late_Return', effect: 'reverse' },
        { code: 'VIP.ok', effect: 'approve' },
        { code: 'late_return', effect: 'modify' },
      ],
    });
    expect(await lastAudit()).toMatchObject({
      actor: 'admin-token',
      action: 'event_type.create',
      target: `event type ${id}`,
      clientIp: '127.0.0.1',
      details: {
        campaignId: campaign.id,
        name: 'Online sale',
        lockingDays: 45,
        payout: { type: 'percent', value: '12.50' },
        dispositionCodes: ['Late_Return reverse', 'VIP.ok approve', 'late_return modify'],
      },
    });
    const page = await client.get(created.location as string);
    expect(page.body).toContain('Event type created.');
    expect(page.body).toContain('12.50 % of the amount');
    expect(page.body).toContain('Late_Return reverse\nVIP.ok approve\nlate_return modify</textarea>');
    const list = await client.get(`/admin/event-types?campaignId=${campaign.id}`);
    expect(list.body).toContain(`<a href="/admin/event-types/${id}">Online sale</a>`);
    expect(list.body).toContain('1 event type of campaign');
  });

  it.each([
    [{ codes: 'Late_Return' }, 'Custom codes, line 1: write the code, a space and modify, reverse or approve'],
    [{ codes: 'ok modify\nbad code here' }, 'Custom codes, line 2: write the code'],
    [{ codes: 'ok modify\n\nrejected reverse' }, 'Custom codes, line 3: "rejected" is a standard disposition code'],
    [{ codes: 'Dup modify\nDup reverse' }, 'Custom codes, line 2: "Dup" is given twice'],
    [{ codes: 'a+b modify' }, 'Custom codes, line 1:'],
    [{ payoutValue: '100.5' }, 'Payout value: a percent payout must be at most 100.'],
    [{ payoutValue: '-1' }, 'The payout value must be a plain decimal'],
    [{ payoutType: 'share' }, 'Choose a payout rule'],
    [{ lockingDays: '731' }, 'Locking period: must be a whole number of days from 0 to 730.'],
    [{ lockingDays: 'x' }, 'The locking period must be a whole number of days.'],
    [{ name: '' }, 'Type a name.'],
    [{ id: '2147483648' }, 'The event type ID must be a whole number from 1 to 2147483647, or empty.'],
    [{ campaignId: '' }, 'Type the campaign ID (CID).'],
    [{ campaignId: '4294967295' }, 'campaign 4294967295 does not exist'],
  ])('refuses the creation of %j with a 400 page saying %j, creating nothing', async (fields, problem) => {
    const campaign = await buildCampaign(services());
    const before = await lastAudit();
    const answer = await client.post('/admin/event-types', form({ campaignId: String(campaign.id), ...fields }));
    expect(answer.status).toBe(400);
    expect(answer.body).toContain(problem.replace(/"/g, '&quot;'));
    expect(answer.body).toContain('role="alert"');
    expect(await services().eventTypes.list({ campaignId: campaign.id })).toEqual([]);
    expect(await lastAudit()).toEqual(before);
  });

  it('refuses an id that is taken with the conflict, keeping what was typed', async () => {
    const campaign = await buildCampaign(services());
    const id = nextSuppliedId--;
    await client.post('/admin/event-types', form({ id: String(id), campaignId: String(campaign.id) }));
    const again = await client.post(
      '/admin/event-types',
      form({ id: String(id), campaignId: String(campaign.id), name: 'Twin' }),
    );
    expect(again.status).toBe(400);
    expect(again.body).toContain(`event type ${id} already exists`);
    expect(again.body).toContain('value="Twin"');
    expect((await services().eventTypes.get(id))?.name).toBe('Online sale');
  });

  it('edits settings and replaces the codes, auditing only what changed; an unchanged save writes no row', async () => {
    const campaign = await buildCampaign(services());
    const created = await services().eventTypes.create({
      campaignId: campaign.id,
      name: 'Sale',
      payout: { type: 'percent', value: 100_000n },
      dispositionCodes: [{ code: 'Old', effect: 'modify' }],
    });
    const saved = await client.post(
      `/admin/event-types/${created.id}`,
      form({ name: 'Sale', lockingDays: '30', payoutType: 'fixed', payoutValue: '5', codes: 'New reverse' }),
    );
    expect([saved.status, saved.location]).toEqual([303, `/admin/event-types/${created.id}?done=event-type-saved`]);
    expect(await services().eventTypes.get(created.id)).toMatchObject({
      campaignId: campaign.id,
      payout: { type: 'fixed', value: 50_000n },
      dispositionCodes: [{ code: 'New', effect: 'reverse' }],
    });
    const entry = await lastAudit();
    expect(entry).toMatchObject({ action: 'event_type.update', target: `event type ${created.id}` });
    expect(entry.details).toEqual({
      payout: { before: { type: 'percent', value: '10.00' }, after: { type: 'fixed', value: '5.00' } },
      dispositionCodes: { before: ['Old modify'], after: ['New reverse'] },
    });
    const unchanged = await client.post(
      `/admin/event-types/${created.id}`,
      form({ name: 'Sale', payoutType: 'fixed', payoutValue: '5.00', codes: 'New reverse\n' }),
    );
    expect(unchanged.status).toBe(303);
    expect((await lastAudit()).id).toBe(entry.id);
    const refused = await client.post(`/admin/event-types/${created.id}`, form({ codes: 'reset modify' }));
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('Custom codes, line 1: &quot;reset&quot; is a standard disposition code');
    expect((await services().eventTypes.get(created.id))?.dispositionCodes).toEqual([
      { code: 'New', effect: 'reverse' },
    ]);
  });

  it('refuses a change without the CSRF token, changing nothing', async () => {
    const campaign = await buildCampaign(services());
    const created = await services().eventTypes.create({
      campaignId: campaign.id,
      name: 'Sale',
      payout: { type: 'percent', value: 100_000n },
    });
    for (const csrf of [null, '', client.csrf.slice(0, -1)]) {
      expect((await client.post(`/admin/event-types/${created.id}`, form({ name: 'Stolen' }), { csrf })).status).toBe(
        403,
      );
      expect(
        (await client.post('/admin/event-types', form({ campaignId: String(campaign.id), name: 'Stolen' }), { csrf }))
          .status,
      ).toBe(403);
    }
    expect((await services().eventTypes.get(created.id))?.name).toBe('Sale');
    expect(await services().eventTypes.list({ campaignId: campaign.id })).toHaveLength(1);
  });

  it('answers 404 for an unknown event type, and shows a hostile name as text', async () => {
    for (const id of ['2147483647', '2147483648', 'abc']) {
      expect((await client.get(`/admin/event-types/${id}`)).status).toBe(404);
      expect((await client.post(`/admin/event-types/${id}`, form({}))).status).toBe(404);
    }
    const campaign = await buildCampaign(services());
    const created = await services().eventTypes.create({
      campaignId: campaign.id,
      name: '<script>alert(1)</script>',
      payout: { type: 'fixed', value: 0n },
    });
    const page = await client.get(`/admin/event-types/${created.id}`);
    expect(page.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.body).not.toContain('<script>alert');
  });
});
