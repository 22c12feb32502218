import { testEngines } from '../support/databases';
import { buildAffiliate, buildTransaction, freshId, rollUpToNow } from '../support/factories';
import { editByGet } from '../support/linktrust-xml';
import { adminRequest, useTestServer } from '../support/test-server';

// The largest id an affiliate or campaign may have: no test creates it (auto ids follow the largest id).
const NEVER_CREATED = 4_294_967_295;
// Ids given on creation count down (a billion above the factories' ids, which count down too):
// auto-increment continues above the largest id, so no given id can meet an auto-generated one.
const claimedId = () => freshId() + 1_000_000_000;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe.each(testEngines())('admin API: affiliates and campaigns on %s', (engine) => {
  const context = useTestServer(engine);

  const admin = (method: string, path: string, body?: unknown) =>
    adminRequest(context.server.baseUrl, method, path, body);
  const validationFailed = (field: string) => ({
    error: { code: 'validation_failed', message: expect.stringContaining(field) },
  });

  describe('affiliates', () => {
    it('creates an affiliate with a generated id, and reads it back identically', async () => {
      const created = await admin('POST', '/affiliates', { name: 'Acme Media' });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        id: expect.any(Number),
        name: 'Acme Media',
        postbackUrl: null,
        createdAt: expect.stringMatching(ISO),
        updatedAt: created.body.createdAt,
      });
      expect(await admin('GET', `/affiliates/${created.body.id}`)).toMatchObject({ status: 200, body: created.body });
    });

    it('keeps the id and postback URL supplied on creation, and refuses the same id again with 409', async () => {
      const id = claimedId();
      const postbackUrl = 'https://affiliate.example/pb?tid=[=_TransID=]&amount=[=AffiliateCommission=]';
      const created = await admin('POST', '/affiliates', { id, name: 'Migrated', postbackUrl });
      expect([created.status, created.body]).toEqual([
        201,
        {
          id,
          name: 'Migrated',
          postbackUrl,
          createdAt: expect.stringMatching(ISO),
          updatedAt: expect.stringMatching(ISO),
        },
      ]);
      expect(await admin('POST', '/affiliates', { id, name: 'Again' })).toMatchObject({
        status: 409,
        body: { error: { code: 'conflict', message: `affiliate ${id} already exists` } },
      });
    });

    it('updates the name and clears the postback URL', async () => {
      const { body: affiliate } = await admin('POST', '/affiliates', {
        name: 'Old',
        postbackUrl: 'https://a.example/pb',
      });
      const patched = await admin('PATCH', `/affiliates/${affiliate.id}`, { name: 'New', postbackUrl: null });
      expect([patched.status, patched.body]).toEqual([
        200,
        { ...affiliate, name: 'New', postbackUrl: null, updatedAt: expect.stringMatching(ISO) },
      ]);
      expect((await admin('GET', `/affiliates/${affiliate.id}`)).body).toEqual(patched.body);
    });

    it.each([
      [{}, 'name'],
      [{ name: '' }, 'name'],
      [{ name: 'x'.repeat(256) }, 'name'],
      [{ name: 'x', id: 0 }, 'id'],
      [{ name: 'x', id: 1.5 }, 'id'],
      [{ name: 'x', id: '7' }, 'id'],
      [{ name: 'x', nickname: 'y' }, 'nickname'],
      [{ name: 'x', postbackUrl: 'ftp://a.example/' }, 'postbackUrl'],
      [{ name: 'x', postbackUrl: 'not a url' }, 'postbackUrl'],
    ])('refuses the affiliate %j with 400 naming %s', async (body, field) => {
      expect(await admin('POST', '/affiliates', body)).toMatchObject({ status: 400, body: validationFailed(field) });
    });

    it('answers concurrent creations with one id with one 201 and otherwise 409, never 500', async () => {
      const id = claimedId();
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, index) => admin('POST', '/affiliates', { id, name: `Racer ${index}` })),
      );
      expect(answers.map((answer) => answer.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
      for (const answer of answers.filter((a) => a.status === 409))
        expect(answer.body).toEqual({ error: { code: 'conflict', message: `affiliate ${id} already exists` } });
    });

    it('answers 404 for an unknown affiliate and 400 for an id that is not one', async () => {
      const missing = NEVER_CREATED;
      expect(await admin('GET', `/affiliates/${missing}`)).toMatchObject({
        status: 404,
        body: { error: { code: 'not_found', message: `affiliate ${missing} not found` } },
      });
      expect(await admin('PATCH', `/affiliates/${missing}`, { name: 'x' })).toMatchObject({
        status: 404,
        body: { error: { code: 'not_found', message: `affiliate ${missing} not found` } },
      });
      for (const id of ['abc', '0', '-1', '1.5']) {
        expect(await admin('GET', `/affiliates/${id}`)).toMatchObject({
          status: 400,
          body: { error: { code: 'validation_failed', message: 'id must be a positive integer' } },
        });
      }
    });
  });

  describe('campaigns', () => {
    it('creates a campaign with defaults that leave it closed, and reads it back identically', async () => {
      const created = await admin('POST', '/campaigns', { name: 'Spring' });
      expect([created.status, created.body]).toEqual([
        201,
        {
          id: expect.any(Number),
          name: 'Spring',
          allowExternalModification: false,
          hasPassword: false,
          whitelistOnly: false,
          uniqueMerchantReference: false,
          merchantId: null,
          createdAt: expect.stringMatching(ISO),
          updatedAt: expect.stringMatching(ISO),
        },
      ]);
      expect(await admin('GET', `/campaigns/${created.body.id}`)).toMatchObject({ status: 200, body: created.body });
    });

    it('keeps a supplied id and every setting, and never shows the password or its hash', async () => {
      const id = claimedId();
      const password = 'correct horse battery staple';
      const created = await admin('POST', '/campaigns', {
        id,
        name: 'Migrated',
        allowExternalModification: true,
        password,
        whitelistOnly: true,
        uniqueMerchantReference: true,
      });
      const expected = {
        id,
        name: 'Migrated',
        allowExternalModification: true,
        hasPassword: true,
        whitelistOnly: true,
        uniqueMerchantReference: true,
        merchantId: null,
        createdAt: expect.stringMatching(ISO),
        updatedAt: expect.stringMatching(ISO),
      };
      expect([created.status, created.body]).toEqual([201, expected]);
      const read = await admin('GET', `/campaigns/${id}`);
      expect(read.body).toEqual(created.body);
      for (const text of [JSON.stringify(created.body), JSON.stringify(read.body)]) {
        expect(text).not.toContain(password);
        expect(text).not.toMatch(/\$2[aby]\$/);
        expect(text).not.toMatch(/"password/i);
      }
      expect(await admin('POST', '/campaigns', { id, name: 'Again' })).toMatchObject({
        status: 409,
        body: { error: { code: 'conflict', message: `campaign ${id} already exists` } },
      });
    });

    it('clears the password with password: null, after which /transaction.edit refuses the old one', async () => {
      const { body: campaign } = await admin('POST', '/campaigns', {
        name: 'Clearing',
        allowExternalModification: true,
        password: 'first-password',
      });
      const affiliate = await buildAffiliate(context.server.services);
      const transaction = await buildTransaction(context.server.services, campaign, affiliate);
      await rollUpToNow(context.server.services);
      const editWith = async (password: string) =>
        (await editByGet(context.server.baseUrl, { Password: password, Transactionid: String(transaction.id) })).answer;
      expect((await editWith('first-password')).succeeded).toBe('True');

      const cleared = await admin('PATCH', `/campaigns/${campaign.id}`, { password: null });
      expect([cleared.status, cleared.body]).toEqual([
        200,
        { ...campaign, hasPassword: false, updatedAt: expect.stringMatching(ISO) },
      ]);
      expect((await editWith('first-password')).error).toEqual({
        type: 'permanent',
        message: 'Permanent failure: Invalid authentication credentials',
      });

      const changed = await admin('PATCH', `/campaigns/${campaign.id}`, { password: 'second-password' });
      expect(changed.body.hasPassword).toBe(true);
      expect((await editWith('first-password')).error?.message).toBe(
        'Permanent failure: Invalid authentication credentials',
      );
      expect((await editWith('second-password')).succeeded).toBe('True');
    });

    it('changes only the settings a PATCH names', async () => {
      const { body: campaign } = await admin('POST', '/campaigns', { name: 'Patch me', password: 'pw' });
      const patched = await admin('PATCH', `/campaigns/${campaign.id}`, {
        allowExternalModification: true,
        whitelistOnly: true,
      });
      expect(patched.body).toEqual({
        ...campaign,
        allowExternalModification: true,
        whitelistOnly: true,
        updatedAt: expect.stringMatching(ISO),
      });
      const renamed = await admin('PATCH', `/campaigns/${campaign.id}`, { name: 'Renamed' });
      expect(renamed.body).toEqual({ ...patched.body, name: 'Renamed', updatedAt: expect.stringMatching(ISO) });
    });

    it('refuses to enforce unique merchant references while two transactions share one (409), and allows it once they do not', async () => {
      const { body: campaign } = await admin('POST', '/campaigns', { name: 'Dupes' });
      const affiliate = await buildAffiliate(context.server.services);
      const reference = `ORDER-${freshId()}`;
      await buildTransaction(context.server.services, campaign, affiliate, { merchantReferenceId: reference });
      const second = await buildTransaction(context.server.services, campaign, affiliate, {
        merchantReferenceId: reference,
      });
      const refused = await admin('PATCH', `/campaigns/${campaign.id}`, {
        uniqueMerchantReference: true,
        name: 'Should not stick',
      });
      expect(refused.status).toBe(409);
      expect(refused.body).toEqual({
        error: { code: 'conflict', message: expect.stringContaining('merchant reference') },
      });
      expect((await admin('GET', `/campaigns/${campaign.id}`)).body).toEqual(campaign);

      await context.database.db
        .knex('transactions')
        .where({ id: second.id })
        .update({ merchant_reference_id: `${reference}-B` });
      const accepted = await admin('PATCH', `/campaigns/${campaign.id}`, { uniqueMerchantReference: true });
      expect([accepted.status, accepted.body.uniqueMerchantReference]).toEqual([200, true]);
    });

    it.each([
      [{}, 'name'],
      [{ name: 'x', password: '' }, 'password'],
      [{ name: 'x', password: 'é'.repeat(37) }, 'password'], // 74 bytes: bcrypt would ignore the tail
      [{ name: 'x', allowExternalModification: 'yes' }, 'allowExternalModification'],
      [{ name: 'x', whitelistOnly: 1 }, 'whitelistOnly'],
      [{ name: 'x', uniqueMerchantReference: null }, 'uniqueMerchantReference'],
      [{ name: 'x', passwordHash: '$2b$04$abc' }, 'passwordHash'],
      [{ name: 'x', id: 4_294_967_296 }, 'id'],
    ])('refuses the campaign %j with 400 naming %s', async (body, field) => {
      expect(await admin('POST', '/campaigns', body)).toMatchObject({ status: 400, body: validationFailed(field) });
    });

    it('accepts a password of exactly 72 bytes', async () => {
      const created = await admin('POST', '/campaigns', { name: 'Long password', password: 'é'.repeat(36) });
      expect([created.status, created.body.hasPassword]).toEqual([201, true]);
    });

    it('answers concurrent creations with one id with one 201 and otherwise 409, never 500', async () => {
      const id = claimedId();
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, index) =>
          admin('POST', '/campaigns', { id, name: `Racer ${index}`, password: `pw-${index}` }),
        ),
      );
      expect(answers.map((answer) => answer.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
      for (const answer of answers.filter((a) => a.status === 409))
        expect(answer.body).toEqual({ error: { code: 'conflict', message: `campaign ${id} already exists` } });
    });

    it('answers 404 for an unknown campaign, on GET and PATCH', async () => {
      const missing = NEVER_CREATED;
      const notFound = {
        status: 404,
        body: { error: { code: 'not_found', message: `campaign ${missing} not found` } },
      };
      expect(await admin('GET', `/campaigns/${missing}`)).toMatchObject(notFound);
      expect(await admin('PATCH', `/campaigns/${missing}`, { name: 'x' })).toMatchObject(notFound);
    });
  });
});
