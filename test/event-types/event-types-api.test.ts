import { testEngines } from '../support/databases';
import { buildCampaign } from '../support/factories';
import { adminRequest, useTestServer } from '../support/test-server';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
// Supplied ids count down from high up (per process), so auto-increment (max + 1) never meets one.
let nextSuppliedId = 2_000_000_000 - (process.pid % 1000) * 100_000;
const suppliedId = () => nextSuppliedId--;
const MISSING = 2_147_483_647;

describe.each(testEngines())('admin API: event types on %s', (engine) => {
  const context = useTestServer(engine);
  const admin = (method: string, path: string, body?: unknown) =>
    adminRequest(context.server.baseUrl, method, path, body);
  const validationFailed = (field: string) => ({
    error: { code: 'validation_failed', message: expect.stringContaining(field) },
  });
  const campaign = () => buildCampaign(context.server.services);

  it('creates an event type with a generated id, 30 locking days and no codes, and reads it back identically', async () => {
    const { id: campaignId } = await campaign();
    const created = await admin('POST', '/event-types', {
      campaignId,
      name: 'Online sale',
      payout: { type: 'percent', value: '12.5' },
    });
    expect([created.status, created.body]).toEqual([
      201,
      {
        id: expect.any(Number),
        campaignId,
        name: 'Online sale',
        lockingDays: 30,
        payout: { type: 'percent', value: '12.50' },
        dispositionCodes: [],
        createdAt: expect.stringMatching(ISO),
        updatedAt: created.body.createdAt,
      },
    ]);
    expect(created.body.id).toBeLessThanOrEqual(MISSING);
    expect(await admin('GET', `/event-types/${created.body.id}`)).toMatchObject({ status: 200, body: created.body });
  });

  it('keeps a supplied id and the codes in the order given, and refuses the same id again with 409', async () => {
    const { id: campaignId } = await campaign();
    const id = suppliedId();
    const body = {
      id,
      campaignId,
      name: 'Store pickup',
      lockingDays: 0,
      payout: { type: 'fixed', value: '5.0001' },
      dispositionCodes: [
        { code: 'Late', effect: 'reverse' },
        { code: 'late', effect: 'modify' },
        { code: 'VIP.ok-1', effect: 'approve' },
        { code: 'a_b', effect: 'modify' },
      ],
    };
    const created = await admin('POST', '/event-types', body);
    expect([created.status, created.body]).toEqual([
      201,
      {
        ...body,
        payout: { type: 'fixed', value: '5.0001' },
        createdAt: expect.stringMatching(ISO),
        updatedAt: expect.stringMatching(ISO),
      },
    ]);
    expect((await admin('GET', `/event-types/${id}`)).body).toEqual(created.body);
    expect(await admin('POST', '/event-types', { ...body, name: 'Again' })).toEqual({
      status: 409,
      body: { error: { code: 'conflict', message: `event type ${id} already exists` } },
      headers: expect.anything(),
    });
    expect((await admin('GET', `/event-types/${id}`)).body.name).toBe('Store pickup');
  });

  it('answers concurrent creations with one id with one 201 and otherwise 409, never 500', async () => {
    const { id: campaignId } = await campaign();
    const id = suppliedId();
    const answers = await Promise.all(
      Array.from({ length: 5 }, (_, index) =>
        admin('POST', '/event-types', {
          id,
          campaignId,
          name: `Racer ${index}`,
          payout: { type: 'fixed', value: '1' },
          dispositionCodes: [{ code: 'X', effect: 'modify' }],
        }),
      ),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 409, 409, 409, 409]);
    const stored = await context.server.services.eventTypes.get(id);
    expect(stored?.dispositionCodes).toEqual([{ code: 'X', effect: 'modify' }]);
  });

  it('lists every event type ordered by id, or those of one campaign', async () => {
    const [first, second] = [await campaign(), await campaign()];
    const make = async (campaignId: number, name: string) =>
      (await admin('POST', '/event-types', { campaignId, name, payout: { type: 'percent', value: '1' } })).body;
    const a = await make(first.id, 'A');
    const b = await make(second.id, 'B');
    const c = await make(first.id, 'C');
    expect(await admin('GET', `/event-types?campaignId=${first.id}`)).toMatchObject({ status: 200, body: [a, c] });
    expect((await admin('GET', `/event-types?campaignId=${second.id}`)).body).toEqual([b]);
    expect((await admin('GET', `/event-types?campaignId=${4_294_967_295}`)).body).toEqual([]);
    const all = (await admin('GET', '/event-types')).body as Array<{ id: number }>;
    expect(all.map((e) => e.id)).toEqual([...all.map((e) => e.id)].sort((x, y) => x - y));
    expect(all).toEqual(expect.arrayContaining([a, b, c]));
    for (const bad of ['abc', '0', '-1', '4294967296'])
      expect(await admin('GET', `/event-types?campaignId=${bad}`)).toMatchObject({
        status: 400,
        body: { error: { code: 'validation_failed', message: 'campaignId must be a positive integer' } },
      });
  });

  it('patches name, locking days, payout and codes (replacing the list), and reads the change back', async () => {
    const { id: campaignId } = await campaign();
    const { body: created } = await admin('POST', '/event-types', {
      campaignId,
      name: 'Old',
      payout: { type: 'percent', value: '10' },
      dispositionCodes: [
        { code: 'Gone', effect: 'reverse' },
        { code: 'Kept', effect: 'modify' },
      ],
    });
    const patched = await admin('PATCH', `/event-types/${created.id}`, {
      name: 'New',
      lockingDays: 730,
      payout: { type: 'fixed', value: '7.25' },
      dispositionCodes: [
        { code: 'Kept', effect: 'approve' },
        { code: 'Fresh', effect: 'reverse' },
      ],
    });
    expect([patched.status, patched.body]).toEqual([
      200,
      {
        ...created,
        name: 'New',
        lockingDays: 730,
        payout: { type: 'fixed', value: '7.25' },
        dispositionCodes: [
          { code: 'Kept', effect: 'approve' },
          { code: 'Fresh', effect: 'reverse' },
        ],
        updatedAt: expect.stringMatching(ISO),
      },
    ]);
    expect((await admin('GET', `/event-types/${created.id}`)).body).toEqual(patched.body);
    const nameOnly = await admin('PATCH', `/event-types/${created.id}`, { name: 'Newer' });
    expect(nameOnly.body).toEqual({ ...patched.body, name: 'Newer', updatedAt: expect.stringMatching(ISO) });
    const cleared = await admin('PATCH', `/event-types/${created.id}`, { dispositionCodes: [] });
    expect(cleared.body.dispositionCodes).toEqual([]);
  });

  it('refuses a campaign that does not exist with 400, and creates nothing', async () => {
    const id = suppliedId();
    expect(
      await admin('POST', '/event-types', {
        id,
        campaignId: 4_294_967_295,
        name: 'x',
        payout: { type: 'percent', value: '1' },
      }),
    ).toMatchObject({
      status: 400,
      body: { error: { code: 'validation_failed', message: 'campaign 4294967295 does not exist' } },
    });
    expect(await context.server.services.eventTypes.get(id)).toBeNull();
  });

  it('answers 404 for an unknown event type and 400 for an id that is not one', async () => {
    const notFound = { error: { code: 'not_found', message: `event type ${MISSING} not found` } };
    expect(await admin('GET', `/event-types/${MISSING}`)).toMatchObject({ status: 404, body: notFound });
    expect(await admin('PATCH', `/event-types/${MISSING}`, { name: 'x' })).toMatchObject({
      status: 404,
      body: notFound,
    });
    for (const id of ['abc', '0', '-1', '1.5', '2147483648']) {
      expect(await admin('GET', `/event-types/${id}`)).toMatchObject({
        status: 400,
        body: { error: { code: 'validation_failed', message: 'id must be a positive integer' } },
      });
    }
  });

  const good = { name: 'x', payout: { type: 'percent', value: '1' } };
  const codes = (...list: Array<[string, string]>) => list.map(([code, effect]) => ({ code, effect }));
  const settingsCases: Array<[Record<string, unknown>, string]> = [
    [{ name: '' }, 'name'],
    [{ name: 'x'.repeat(256) }, 'name'],
    [{ name: 7 }, 'name'],
    [{ lockingDays: -1 }, 'lockingDays'],
    [{ lockingDays: 731 }, 'lockingDays'],
    [{ lockingDays: 1.5 }, 'lockingDays'],
    [{ lockingDays: '30' }, 'lockingDays'],
    [{ payout: { type: 'share', value: '1' } }, 'payout.type'],
    [{ payout: { type: 'percent' } }, 'payout.value'],
    [{ payout: { type: 'percent', value: 12.5 } }, 'payout.value'],
    [{ payout: { type: 'percent', value: '-1' } }, 'payout.value'],
    [{ payout: { type: 'percent', value: '1.23456' } }, 'payout.value'],
    [{ payout: { type: 'percent', value: '100.01' } }, 'payout.value'],
    [{ payout: { type: 'fixed', value: '1', currency: 'USD' } }, 'currency'],
    [{ dispositionCodes: 'A modify' }, 'dispositionCodes'],
    [{ dispositionCodes: codes(['', 'modify']) }, 'dispositionCodes.0.code'],
    [{ dispositionCodes: codes(['x'.repeat(65), 'modify']) }, 'dispositionCodes.0.code'],
    [{ dispositionCodes: codes(['ok', 'modify'], ['no space', 'modify']) }, 'dispositionCodes.1.code'],
    [{ dispositionCodes: codes(['Rejected', 'modify']) }, 'dispositionCodes.0.code'],
    [{ dispositionCodes: codes(['order_update', 'reverse']) }, 'dispositionCodes.0.code'],
    [{ dispositionCodes: codes(['Dup', 'modify'], ['Dup', 'reverse']) }, 'dispositionCodes.1.code'],
    [{ dispositionCodes: codes(['ok', 'reset']) }, 'dispositionCodes.0.effect'],
    [{ dispositionCodes: [{ code: 'ok', effect: 'modify', note: 'x' }] }, 'note'],
    [
      { dispositionCodes: Array.from({ length: 101 }, (_, i) => ({ code: `c${i}`, effect: 'modify' })) },
      'dispositionCodes',
    ],
  ];

  it.each([
    ...settingsCases,
    [{ id: 0 }, 'id'],
    [{ id: 2_147_483_648 }, 'id'],
    [{ id: '5' }, 'id'],
    [{ campaignId: undefined }, 'campaignId'],
    [{ campaignId: 0 }, 'campaignId'],
    [{ campaignId: '1' }, 'campaignId'],
    [{ payout: undefined }, 'payout'],
    [{ name: undefined }, 'name'],
    [{ actionTrackerId: 5 }, 'actionTrackerId'],
  ] as Array<[Record<string, unknown>, string]>)(
    'refuses the creation of %j with 400 naming %s',
    async (change, field) => {
      const { id: campaignId } = await campaign();
      const answer = await admin('POST', '/event-types', { ...good, campaignId, ...change });
      expect(answer).toMatchObject({ status: 400, body: validationFailed(field) });
      expect((await admin('GET', `/event-types?campaignId=${campaignId}`)).body).toEqual([]);
    },
  );

  it.each([
    ...settingsCases,
    [{ campaignId: 1 }, 'campaignId'],
    [{ id: 1 }, 'id'],
    [{ createdAt: 'x' }, 'createdAt'],
  ] as Array<[Record<string, unknown>, string]>)(
    'refuses the change %j with 400 naming %s, changing nothing',
    async (change, field) => {
      const { id: campaignId } = await campaign();
      const { body: created } = await admin('POST', '/event-types', { ...good, campaignId });
      expect(await admin('PATCH', `/event-types/${created.id}`, change)).toMatchObject({
        status: 400,
        body: validationFailed(field),
      });
      expect((await admin('GET', `/event-types/${created.id}`)).body).toEqual(created);
    },
  );

  it('refuses a body that is not JSON, and requires the admin token', async () => {
    const response = await fetch(`${context.server.baseUrl}/api/v1/event-types`, {
      method: 'POST',
      headers: { authorization: `Bearer ${'x'.repeat(40)}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(401);
    const invalidJson = await fetch(`${context.server.baseUrl}/api/v1/event-types`, {
      method: 'POST',
      headers: { authorization: `Bearer ${'test-admin-token-0123456789abcdef'}`, 'content-type': 'application/json' },
      body: '{"name":',
    });
    expect(invalidJson.status).toBe(400);
    expect(((await invalidJson.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
  });
});
