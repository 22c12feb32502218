import { testEngines } from '../support/databases';
import { rollUpToNow } from '../support/factories';
import { startTestServer, useTestServer } from '../support/test-server';
import { admin, createAccount, impactCall, impactScene } from './impact-api-helpers';

describe.each(testEngines())("impact.com's REST API on %s", (engine) => {
  const context = useTestServer(engine);
  const base = () => context.server.baseUrl;
  const services = () => context.server.services;
  const scene = () => impactScene(services(), base());
  const apply = async () => {
    await rollUpToNow(services());
    await services().impactApiWorker.drain();
  };
  const submissionCount = async () => Number((await services().db.knex('api_submissions').count({ n: '*' }))[0].n);
  const transaction = async (id: number) => (await admin(base(), 'GET', `/transactions/${id}`)).body;

  describe('API accounts (admin API)', () => {
    it('creates an account with its token once, lists it without the token, and revokes it', async () => {
      const { campaign } = await scene();
      const created = await admin(base(), 'POST', '/api-accounts', { name: 'Returns bot', campaignIds: [campaign.id] });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ name: 'Returns bot', campaignIds: [campaign.id], revokedAt: null });
      expect(created.body.accountSid).toMatch(/^IR[0-9A-F]{32}$/);
      expect(created.body.authToken).toMatch(/^[A-Za-z0-9_-]{43}$/);

      const listed = await admin(base(), 'GET', '/api-accounts');
      const mine = listed.body.find((a: any) => a.accountSid === created.body.accountSid);
      expect(mine).toEqual({
        accountSid: created.body.accountSid,
        name: 'Returns bot',
        campaignIds: [campaign.id],
        merchantId: null,
        createdAt: expect.any(String),
        revokedAt: null,
      });
      expect(JSON.stringify(listed.body)).not.toContain(created.body.authToken);
      const stored = await services().db.knex('api_accounts').where({ account_sid: created.body.accountSid }).first();
      expect(stored.token_sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(stored)).not.toContain(created.body.authToken);

      const path = `/Advertisers/${created.body.accountSid}/FTPFileSubmissions`;
      expect((await impactCall(base(), 'GET', path, { account: created.body })).status).toBe(200);
      const revoked = await admin(base(), 'DELETE', `/api-accounts/${created.body.accountSid}`);
      expect(revoked.status).toBe(200);
      expect(revoked.body.revokedAt).toEqual(expect.any(String));
      expect((await impactCall(base(), 'GET', path, { account: created.body })).status).toBe(401);
      expect((await admin(base(), 'DELETE', '/api-accounts/IRNOSUCHACCOUNT')).status).toBe(404);
    });

    it('refuses an unknown campaign, a missing name and unknown fields', async () => {
      expect(
        (await admin(base(), 'POST', '/api-accounts', { name: 'x', campaignIds: [2_000_000_000] })).body,
      ).toMatchObject({ error: { code: 'validation_failed' } });
      expect((await admin(base(), 'POST', '/api-accounts', { campaignIds: [1] })).status).toBe(400);
      expect((await admin(base(), 'POST', '/api-accounts', { name: 'x', campaignIds: [1], extra: 1 })).status).toBe(
        400,
      );
    });
  });

  describe('Actions', () => {
    it('queues a modification, answers QUEUED, and applies it by the impact rules', async () => {
      const { campaign, action } = await scene();
      const account = await createAccount(base(), [campaign.id]);
      const target = await action();
      const queued = await impactCall(base(), 'PUT', `/Advertisers/${account.accountSid}/Actions`, {
        account,
        form: { ActionId: target.actionId, Amount: '80.00', Reason: 'ITEM_RETURNED' },
      });
      expect(queued.status).toBe(200);
      expect(queued.body).toEqual({
        Status: 'QUEUED',
        QueuedUri: expect.stringMatching(
          new RegExp(`^/Advertisers/${account.accountSid}/APISubmissions/A-[0-9a-f-]{36}$`),
        ),
      });
      const before = await impactCall(base(), 'GET', queued.body.QueuedUri, { account });
      expect(before.body).toMatchObject({
        Type: 'Modification',
        Status: 'QUEUED',
        ActionId: target.actionId,
        Code: null,
      });

      await apply();
      const after = await impactCall(base(), 'GET', queued.body.QueuedUri, { account });
      expect(after.status).toBe(200);
      expect(after.body).toEqual({
        Id: queued.body.QueuedUri.split('/').pop(),
        Type: 'Modification',
        Status: 'COMPLETE',
        ActionId: target.actionId,
        Code: 'MODIFIED',
        Message: 'The action was modified.',
        SubmittedDate: expect.any(String),
        CompletedDate: expect.any(String),
      });
      expect((await transaction(target.id)).merchantRevenue).toMatch(/^80\.00/);
    });

    it('queues the affiliate postback of an applied submission, as for a file row', async () => {
      const { campaign, affiliate, action } = await scene();
      await services()
        .db.knex('affiliates')
        .where({ id: affiliate.id })
        .update({ postback_url: 'https://postbacks.example/pb?t=[=_TransID=]' });
      const account = await createAccount(base(), [campaign.id]);
      const target = await action();
      await impactCall(base(), 'PUT', `/Advertisers/${account.accountSid}/Actions`, {
        account,
        form: { ActionId: target.actionId, Amount: '75.00' },
      });
      await apply();
      const deliveries = await services().db.knex('postback_deliveries').where({ transaction_id: target.id });
      expect(deliveries.map((d: any) => [d.url, d.status])).toEqual([
        [`https://postbacks.example/pb?t=${target.id}`, 'pending'],
      ]);
    });

    it('reverses with DELETE (REJECTED by default), by OrderId and ActionTrackerId, with a JSON body', async () => {
      const { campaign, action, eventTypeId } = await scene();
      const account = await createAccount(base(), [campaign.id]);
      const target = await action();
      const queued = await impactCall(base(), 'DELETE', `/Advertisers/${account.accountSid}/Actions`, {
        account,
        json: { OrderId: target.merchantReferenceId, ActionTrackerId: eventTypeId },
      });
      expect(queued.status).toBe(200);
      await apply();
      const done = await impactCall(base(), 'GET', queued.body.QueuedUri, { account });
      expect(done.body).toMatchObject({
        Type: 'Reversal',
        Status: 'COMPLETE',
        Code: 'REVERSED',
        ActionId: target.actionId,
      });
      expect((await transaction(target.id)).merchantRevenue).toMatch(/^0\.00/);
    });

    it("answers ACTION_NOT_FOUND for another account's action, and 403 for another account's SID", async () => {
      const mine = await scene();
      const theirs = await scene();
      const account = await createAccount(base(), [mine.campaign.id]);
      const other = await createAccount(base(), [theirs.campaign.id]);
      const foreign = await theirs.action();
      const queued = await impactCall(base(), 'PUT', `/Advertisers/${account.accountSid}/Actions`, {
        account,
        form: { ActionId: foreign.actionId, Amount: '50.00' },
      });
      await apply();
      expect((await impactCall(base(), 'GET', queued.body.QueuedUri, { account })).body).toMatchObject({
        Status: 'COMPLETE',
        Code: 'ACTION_NOT_FOUND',
      });
      expect((await transaction(foreign.id)).merchantRevenue).toMatch(/^100\.00/);

      const forbidden = await impactCall(base(), 'PUT', `/Advertisers/${other.accountSid}/Actions`, {
        account,
        form: { ActionId: foreign.actionId, Amount: '50.00' },
      });
      expect(forbidden.status).toBe(403);
      expect(forbidden.body).toEqual({ Status: 'ERROR', Message: expect.stringContaining('Account SID') });
      // Another account's submission is not found either.
      expect(
        (
          await impactCall(base(), 'GET', queued.body.QueuedUri.replace(account.accountSid, other.accountSid), {
            account: other,
          })
        ).status,
      ).toBe(404);
    });

    it('refuses malformed calls with 400 and stores nothing', async () => {
      const { campaign, action } = await scene();
      const account = await createAccount(base(), [campaign.id]);
      const target = await action();
      const path = `/Advertisers/${account.accountSid}/Actions`;
      const count = await submissionCount();
      const refusals: Array<[string, Record<string, string>, string]> = [
        ['PUT', { Amount: '10.00' }, 'ActionId: missing'],
        ['PUT', { ActionId: target.actionId, Amount: '10.00', Colour: 'red' }, 'Unknown parameter: Colour'],
        ['PUT', { ActionId: target.actionId, Amount: 'ten' }, 'Amount: ten is not a plain decimal number'],
        ['PUT', { ActionId: target.actionId, Quantity1: '1', Sku1: 'A', Amount1: '1.234' }, 'Amount1'],
        ['PUT', { ActionId: target.actionId, Amount: '1.00', CurrencyCode: 'EUR' }, 'CurrencyCode'],
        ['DELETE', { ActionId: target.actionId, Amount: '1.00' }, 'not allowed when reversing'],
        ['DELETE', { OrderId: 'X-1' }, 'ActionTrackerId: missing'],
      ];
      for (const [method, form, message] of refusals) {
        const refused = await impactCall(base(), method, path, { account, form });
        expect([form, refused.status]).toEqual([form, 400]);
        expect(refused.body).toEqual({ Status: 'ERROR', Message: expect.stringContaining(message) });
      }
      const twice = await fetch(`${base()}${path}?ActionId=${target.actionId}&Amount=1.00`, {
        method: 'PUT',
        headers: {
          authorization: `Basic ${Buffer.from(`${account.accountSid}:${account.authToken}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'Amount=2.00',
      });
      expect(twice.status).toBe(400);
      const badJson = await impactCall(base(), 'PUT', path, {
        account,
        headers: { 'content-type': 'application/json' },
      });
      expect(badJson.status).toBe(400);
      expect(await submissionCount()).toBe(count);
    });

    it('takes parameters from the query string, as impact clients send them', async () => {
      const { campaign, action } = await scene();
      const account = await createAccount(base(), [campaign.id]);
      const target = await action();
      const queued = await impactCall(
        base(),
        'PUT',
        `/Advertisers/${account.accountSid}/Actions?ActionId=${target.actionId}&Amount=60.00&DispositionCode=Store_Credit`,
        { account },
      );
      expect(queued.status).toBe(200);
      await apply();
      expect((await impactCall(base(), 'GET', queued.body.QueuedUri, { account })).body.Code).toBe('MODIFIED');
      expect((await transaction(target.id)).merchantRevenue).toMatch(/^60\.00/);
    });

    it('replays an Idempotency-Key with the same parameters, and refuses it with others', async () => {
      const { campaign, action } = await scene();
      const account = await createAccount(base(), [campaign.id]);
      const target = await action();
      const path = `/Advertisers/${account.accountSid}/Actions`;
      const call = (amount: string) =>
        impactCall(base(), 'PUT', path, {
          account,
          form: { ActionId: target.actionId, Amount: amount },
          headers: { 'idempotency-key': `key-${target.actionId}` },
        });
      const first = await call('70.00');
      const count = await submissionCount();
      const again = await call('70.00');
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      const other = await call('71.00');
      expect(other.status).toBe(409);
      expect(other.body.Status).toBe('ERROR');
      expect(await submissionCount()).toBe(count);
    });

    it('applies a burst of 500 modifications of one action in submission order, none lost', async () => {
      const { campaign, action } = await scene();
      const account = await createAccount(base(), [campaign.id]);
      const target = await action();
      const path = `/Advertisers/${account.accountSid}/Actions`;
      const uris: string[] = [];
      // Ten clients at once: the order is the order the submissions were stored in.
      for (let start = 0; start < 500; start += 10) {
        const answers = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            impactCall(base(), 'PUT', path, {
              account,
              form: { ActionId: target.actionId, Amount: `${200 + start + i}.00` },
            }),
          ),
        );
        for (const answer of answers) {
          expect(answer.status).toBe(200);
          uris.push(answer.body.QueuedUri);
        }
      }
      await apply();
      const stored = await services()
        .db.knex('api_submissions')
        .whereIn(
          'public_id',
          uris.map((uri) => uri.split('/').pop() as string),
        )
        .orderBy('id');
      expect(stored).toHaveLength(500);
      expect(stored.every((s: any) => s.status === 'COMPLETE' && s.code === 'MODIFIED')).toBe(true);
      const history = await services().db.knex('modifications').where({ transaction_id: target.id }).orderBy('id');
      expect(history.map((h: any) => h.request_id)).toEqual(stored.map((s: any) => `api-${s.public_id}`));
      const last = JSON.parse(stored[499].parameters).find((p: any) => p.name === 'Amount').value;
      expect((await transaction(target.id)).merchantRevenue).toMatch(new RegExp(`^${last.replace('.', '\\.')}`));
    });

    it('answers in XML with Accept: application/xml', async () => {
      const { campaign, action } = await scene();
      const account = await createAccount(base(), [campaign.id]);
      const target = await action();
      const queued = await impactCall(base(), 'PUT', `/Advertisers/${account.accountSid}/Actions`, {
        account,
        accept: 'application/xml',
        form: { ActionId: target.actionId, Amount: '90.00' },
      });
      expect(queued.status).toBe(200);
      expect(queued.headers.get('content-type')).toMatch(/^application\/xml/);
      const uri = /<QueuedUri>([^<]+)<\/QueuedUri>/.exec(queued.text)?.[1] as string;
      expect(queued.text).toBe(
        `<?xml version="1.0" encoding="UTF-8"?><ImpactRadiusResponse><Status>QUEUED</Status><QueuedUri>${uri}</QueuedUri></ImpactRadiusResponse>`,
      );
      await apply();
      const read = await impactCall(base(), 'GET', uri, { account, accept: 'application/xml' });
      expect(read.text).toContain('<Status>COMPLETE</Status><ActionId>');
      expect(read.text).toContain('<Code>MODIFIED</Code>');
      const refused = await impactCall(base(), 'PUT', `/Advertisers/${account.accountSid}/Actions`, {
        account,
        accept: 'application/xml',
        form: { Amount: '1.00' },
      });
      expect(refused.status).toBe(400);
      expect(refused.text).toMatch(
        /^<\?xml[^>]*><ImpactRadiusResponse><Status>ERROR<\/Status><Message>ActionId: missing/,
      );
    });
  });

  describe('authentication', () => {
    it('refuses calls without valid Basic credentials with 401, with the rate limit headers', async () => {
      const { campaign } = await scene();
      const account = await createAccount(base(), [campaign.id]);
      const path = `/Advertisers/${account.accountSid}/FTPFileSubmissions`;
      for (const authorization of [
        undefined,
        'Bearer whatever',
        `Basic ${Buffer.from(`${account.accountSid}:wrong`).toString('base64')}`,
        `Basic ${Buffer.from(`IRUNKNOWN:${account.authToken}`).toString('base64')}`,
      ]) {
        const refused = await impactCall(base(), 'GET', path, { authorization });
        expect(refused.status).toBe(401);
        expect(refused.headers.get('www-authenticate')).toBe('Basic realm="txedit"');
        expect(refused.body.Status).toBe('ERROR');
        expect(refused.headers.get('x-ratelimit-limit')).toBe('1000');
      }
    });
  });

  describe('FTPFileSubmissions', () => {
    it("lists the account's impact files and their failed rows", async () => {
      const { campaign, action } = await scene();
      const { campaign: otherCampaign } = await scene();
      const account = await createAccount(base(), [campaign.id]);
      const target = await action();
      const file = [
        'ActionId,Amount,Reason,Sku',
        `${target.actionId},80.00,ITEM_RETURNED,`,
        `${target.actionId},12.345,ORDER_UPDATE,`,
        `1000.nope,1.00,ORDER_UPDATE,`,
      ].join('\r\n');
      const upload = async (campaignId: number, filename: string) => {
        const uploaded = await services().batches.upload({
          filename,
          bytes: Buffer.from(file),
          clientIp: '127.0.0.1',
          force: true,
          channel: 'ftp',
          campaignId,
        });
        if (!uploaded.ok) throw new Error(uploaded.reason);
        return uploaded.batch;
      };
      const mine = await upload(campaign.id, 'Mods.csv');
      const theirs = await upload(otherCampaign.id, 'Other.csv');
      await rollUpToNow(services());
      while ((await services().batchWorker.runOnce()) !== null);

      const listed = await impactCall(base(), 'GET', `/Advertisers/${account.accountSid}/FTPFileSubmissions`, {
        account,
      });
      expect(listed.status).toBe(200);
      expect(listed.headers.get('x-ratelimit-remaining')).toMatch(/^\d+$/);
      expect(listed.body.FTPFileSubmissions).toEqual([
        {
          BatchId: `F-${mine.id}`,
          FileName: 'Mods.csv',
          Type: 'Modifications',
          Status: 'COMPLETED',
          TotalRecords: 3,
          TotalErrors: 2,
          SubmissionDate: expect.any(String),
          CompletionDate: expect.any(String),
          ErrorsUri: `/Advertisers/${account.accountSid}/FTPFileSubmissions/F-${mine.id}/ErrorDetails`,
          Uri: `/Advertisers/${account.accountSid}/FTPFileSubmissions/F-${mine.id}`,
        },
      ]);
      const errors = await impactCall(
        base(),
        'GET',
        `/Advertisers/${account.accountSid}/FTPFileSubmissions/F-${mine.id}/ErrorDetails`,
        { account },
      );
      expect(errors.body.ErrorDetails).toEqual([
        expect.objectContaining({
          Line: 2,
          Code: 'MALFORMED',
          Status: 'Validation',
          Reason: expect.stringContaining('Amount'),
        }),
        expect.objectContaining({ Line: 3, ActionId: '1000.nope', Code: 'ACTION_NOT_FOUND', Status: 'Validation' }),
      ]);
      const foreign = await impactCall(
        base(),
        'GET',
        `/Advertisers/${account.accountSid}/FTPFileSubmissions/F-${theirs.id}/ErrorDetails`,
        { account },
      );
      expect(foreign.status).toBe(404);

      const later = new Date(Date.now() + 3_600_000).toISOString();
      const none = await impactCall(
        base(),
        'GET',
        `/Advertisers/${account.accountSid}/FTPFileSubmissions?SubmissionDateStart=${later}`,
        { account },
      );
      expect(none.body.FTPFileSubmissions).toEqual([]);
      const paged = await impactCall(
        base(),
        'GET',
        `/Advertisers/${account.accountSid}/FTPFileSubmissions?PageSize=1&Page=2`,
        { account },
      );
      expect(paged.body).toMatchObject({ '@page': 2, '@pagesize': 1, FTPFileSubmissions: [] });
      const xml = await impactCall(base(), 'GET', `/Advertisers/${account.accountSid}/FTPFileSubmissions`, {
        account,
        accept: 'application/xml',
      });
      expect(xml.text).toContain(`<FTPFileSubmissions><FTPFileSubmission><BatchId>F-${mine.id}</BatchId>`);
      const bad = await impactCall(base(), 'GET', `/Advertisers/${account.accountSid}/FTPFileSubmissions?PageSize=0`, {
        account,
      });
      expect(bad.status).toBe(400);
    });
  });

  describe('restarts', () => {
    it('loses no queued submission when the server stops before applying them', async () => {
      const { campaign, action } = await scene();
      const account = await createAccount(base(), [campaign.id]);
      const target = await action();
      const first = await startTestServer(context.database.db);
      const uris: string[] = [];
      for (let i = 0; i < 20; i++) {
        const queued = await impactCall(first.baseUrl, 'PUT', `/Advertisers/${account.accountSid}/Actions`, {
          account,
          form: { ActionId: target.actionId, Amount: `${50 + i}.00` },
        });
        uris.push(queued.body.QueuedUri);
      }
      await first.close();
      await rollUpToNow(services());
      // The next instance's own worker (IMPACT_API_WORKER) applies them.
      const second = await startTestServer(context.database.db, { IMPACT_API_WORKER: 'true' });
      second.services.lifecycle.start({ impactApiWorker: true });
      try {
        for (;;) {
          const statuses = await Promise.all(
            uris.map(async (uri) => (await impactCall(second.baseUrl, 'GET', uri, { account })).body.Status),
          );
          if (statuses.every((status) => status === 'COMPLETE')) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      } finally {
        await second.close();
      }
      expect((await transaction(target.id)).merchantRevenue).toMatch(/^69\.00/);
    });
  });
});
