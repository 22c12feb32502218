import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import express, { type Router } from 'express';
import { adminRouter } from '../../src/admin/admin-router';
import type { AdminService } from '../../src/admin/admin-service';
import { openApiDocumentOf } from '../../src/admin/openapi-document';
import { createExpressApp } from '../../src/app';
import { createLogger } from '../../src/logger';
import { createGuardedDispatcher } from '../../src/postbacks/network-guard';
import { PostbackWorker } from '../../src/postbacks/postback-worker';
import { testEngines } from '../support/databases';
import { buildAffiliate, buildCampaign, buildTransaction, rollUpToNow } from '../support/factories';
import { editByGet } from '../support/linktrust-xml';
import { compareRoutes, documentedRoutes, mountedRoutes } from '../support/route-inventory';
import { adminRequest, useTestServer } from '../support/test-server';
import { DocumentedClient, type Document } from './openapi-support';

const run = promisify(execFile);
const intakeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'txedit-openapi-'));
afterAll(() => fs.rmSync(intakeDir, { recursive: true, force: true }));

describe('the completeness check', () => {
  it('names a mounted route the document lacks, and a documented route nothing mounts', () => {
    expect(compareRoutes(['get /a', 'post /b'], ['get /a', 'delete /c'])).toEqual({
      undocumented: ['post /b'],
      unmounted: ['delete /c'],
    });
    expect(compareRoutes(['get /a'], ['get /a'])).toEqual({ undocumented: [], unmounted: [] });
  });

  it('finds a route added to the admin router with a plain router.get, undescribed', () => {
    const app = express();
    app.use(
      '/api/v1',
      adminRouter({
        admin: {} as AdminService,
        adminToken: null,
        logger: createLogger('silent'),
        extend: [(router) => router.get('/sneaky/:id', (_req, res) => res.json({}))],
      }),
    );
    const mounted = mountedRoutes(app, '/api/v1');
    expect(mounted).toContain('patch /affiliates/{id}');
    expect(mounted).toContain('get /openapi.json');
    const router = (
      app as unknown as { router: { stack: Array<{ handle: Router & { stack?: unknown } }> } }
    ).router.stack
      .map((layer) => layer.handle)
      .find((handle) => handle.stack) as Router;
    const document = openApiDocumentOf(router, 'test') as unknown as Parameters<typeof documentedRoutes>[0];
    expect(compareRoutes(mounted, documentedRoutes(document))).toEqual({
      undocumented: ['get /sneaky/{id}'],
      unmounted: [],
    });
  });
});

describe.each(testEngines())('the admin API document on %s', (engine) => {
  const context = useTestServer(engine, { INTAKE_DIR: intakeDir, SMTP_DOMAIN: 'intake.example.test' });
  let document: Document;
  let api: DocumentedClient;

  beforeAll(async () => {
    const { status, body } = await adminRequest(context.server.baseUrl, 'GET', '/openapi.json');
    expect(status).toBe(200);
    document = body;
    api = new DocumentedClient(context.server.baseUrl, document);
  });

  it('is OpenAPI 3.1 by the official schema, with the bearer scheme and the error shape', async () => {
    expect(document).toMatchObject({
      openapi: '3.1.0',
      security: [{ bearerAuth: [] }],
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
        schemas: { Error: { required: ['error'] } },
      },
    });
    const file = path.join(intakeDir, `openapi-${engine}.json`);
    fs.writeFileSync(file, JSON.stringify(document));
    const cli = require.resolve('@seriousme/openapi-schema-validator/bin/validate-api-cli.js');
    const { stdout } = await run(process.execPath, [cli, file]).catch((error: { stdout: string }) => error);
    expect(JSON.parse(stdout)).toEqual({ valid: true });
  });

  it('describes every route mounted under /api/v1, and nothing else', () => {
    const app = createExpressApp(context.server.services);
    const mounted = mountedRoutes(app, '/api/v1');
    expect(mounted.length).toBeGreaterThan(35);
    expect(compareRoutes(mounted, documentedRoutes(document))).toEqual({ undocumented: [], unmounted: [] });
  });

  it('is served only with the bearer token', async () => {
    expect((await api.call('GET', '/openapi.json', undefined, { token: null })).status).toBe(401);
    expect((await api.call('GET', '/openapi.json', undefined, { token: 'x'.repeat(40) })).body.error.code).toBe(
      'unauthorized',
    );
    expect((await api.call('GET', '/openapi.json')).body.openapi).toBe('3.1.0');
  });

  it('documents every answer of every route: a success and a refusal of each validate against it', async () => {
    const services = context.server.services;
    const call = api.call.bind(api);
    const expectStatus = async (expected: number, answer: Promise<{ status: number; text: string }>) => {
      const { status, text } = await answer;
      if (status !== expected) throw new Error(`expected ${expected}, got ${status}: ${text}`);
    };

    // Affiliates
    const affiliate = (await call('POST', '/affiliates', { name: 'Doc Affiliate', postbackUrl: null })).body;
    await expectStatus(409, call('POST', '/affiliates', { id: affiliate.id, name: 'Again' }));
    await expectStatus(400, call('POST', '/affiliates', { name: '' }));
    await expectStatus(200, call('GET', `/affiliates/${affiliate.id}`));
    await expectStatus(404, call('GET', '/affiliates/987654321'));
    await expectStatus(200, call('PATCH', `/affiliates/${affiliate.id}`, { name: 'Renamed' }));
    await expectStatus(400, call('PATCH', '/affiliates/abc', { name: 'x' }));
    await expectStatus(200, call('GET', '/affiliates?search=Renamed'));
    await expectStatus(400, call('GET', '/affiliates?search=a&search=b'));
    await expectStatus(409, call('POST', `/affiliates/${affiliate.id}/test-postback`));
    await expectStatus(404, call('POST', '/affiliates/987654321/test-postback'));
    // This server keeps the private-network guard on: loopback is refused before any connection.
    await expectStatus(200, call('PATCH', `/affiliates/${affiliate.id}`, { postbackUrl: 'http://127.0.0.1:9/pb' }));
    const refused = await call('POST', `/affiliates/${affiliate.id}/test-postback`);
    expect(refused.body).toMatchObject({
      ok: false,
      error: expect.stringContaining('private network address refused'),
    });

    // Campaigns
    const campaign = (await call('POST', '/campaigns', { name: 'Doc Campaign', password: 'doc-password' })).body;
    expect(campaign.hasPassword).toBe(true);
    await expectStatus(409, call('POST', '/campaigns', { id: campaign.id, name: 'Again' }));
    await expectStatus(200, call('GET', '/campaigns?search=Doc'));
    await expectStatus(400, call('GET', '/campaigns?search=a&search=b'));
    await expectStatus(200, call('GET', `/campaigns/${campaign.id}`));
    await expectStatus(404, call('GET', '/campaigns/987654321'));
    await expectStatus(200, call('PATCH', `/campaigns/${campaign.id}`, { whitelistOnly: false }));
    await expectStatus(404, call('PATCH', '/campaigns/987654321', { name: 'x' }));

    // Whitelist
    const entry = (await call('POST', '/whitelist', { address: '192.0.2.0/24', campaignId: campaign.id })).body;
    await expectStatus(400, call('POST', '/whitelist', { address: 'not-an-address' }));
    await expectStatus(200, call('GET', '/whitelist?campaignId=global'));
    await expectStatus(400, call('GET', '/whitelist?campaignId=x'));
    await expectStatus(204, call('DELETE', `/whitelist/${entry.id}`));
    await expectStatus(404, call('DELETE', `/whitelist/${entry.id}`));

    // Transactions
    const transaction = {
      campaignId: campaign.id,
      affiliateId: affiliate.id,
      affiliatePayout: '1.50',
      merchantRevenue: '10.00',
      occurredAt: new Date(Date.now() - 2 * 86_400_000).toISOString(),
    };
    const created = await call('POST', '/transactions', transaction);
    expect(created.status).toBe(201);
    await expectStatus(409, call('POST', '/transactions', { ...transaction, id: created.body.id }));
    await expectStatus(200, call('GET', `/transactions?clickId=${created.body.clickId}`));
    await expectStatus(400, call('GET', '/transactions'));
    await expectStatus(200, call('GET', `/transactions/${created.body.id}`));
    await expectStatus(404, call('GET', '/transactions/987654321'));
    await expectStatus(
      400,
      call('POST', `/transactions/${created.body.id}/modifications`, { affiliatePayout: '2.00' }),
    );
    await expectStatus(
      409,
      call('POST', `/transactions/${created.body.id}/modifications`, { affiliatePayout: '2.00', reason: 'early' }),
    );
    await rollUpToNow(services);
    await expectStatus(
      201,
      call('POST', `/transactions/${created.body.id}/modifications`, { affiliatePayout: '2.00', reason: 'by hand' }),
    );

    // Postbacks: a delivery given up as failed (its receiver is not there; no retries left).
    const postbackAffiliate = await buildAffiliate(services, { postbackUrl: 'http://127.0.0.1:1/pb?t=[=_TransID=]' });
    const postbackCampaign = await buildCampaign(services);
    const failing = await buildTransaction(services, postbackCampaign, postbackAffiliate);
    await rollUpToNow(services);
    await editByGet(context.server.baseUrl, {
      Password: postbackCampaign.password as string,
      TransactionID: String(failing.id),
      MP: '1.00',
      executeaffiliatepixel: 'yes',
    });
    const dispatcher = createGuardedDispatcher({ allowPrivateNetworks: true });
    const [failed] = await services.stores.postbacks.list({ transactionId: failing.id });
    await new PostbackWorker(services.stores.postbacks, dispatcher, createLogger('silent'), {
      retrySchedule: [],
      timeoutMs: 2000,
      concurrency: 1,
      leaseMs: 60_000,
      now: () => Date.now() + 60_000,
    }).runOnce();
    await dispatcher.close();
    const listed = await call('GET', `/postbacks?transactionId=${failing.id}`);
    expect(listed.body[0].status).toBe('failed');
    await expectStatus(400, call('GET', '/postbacks?status=lost'));
    await expectStatus(200, call('POST', `/postbacks/${failed.id}/retry`));
    await expectStatus(409, call('POST', `/postbacks/${failed.id}/retry`));
    await expectStatus(404, call('POST', '/postbacks/987654321/retry'));

    // Refusals: a wrong password is one.
    await editByGet(context.server.baseUrl, { Password: 'wrong', TransactionID: String(failing.id), MP: '2.00' });
    const refusals = await call('GET', `/refusals?campaignId=${postbackCampaign.id}`);
    expect(refusals.body.length).toBeGreaterThan(0);
    await expectStatus(400, call('GET', '/refusals?since=yesterday'));

    // Processing and reports
    await expectStatus(200, call('GET', '/processing'));
    await expectStatus(200, call('POST', '/processing/hourly/run', {}));
    await expectStatus(400, call('POST', '/processing/hourly/run', { through: 'soon' }));
    const day = new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10);
    await expectStatus(200, call('POST', '/processing/nightly/run', { date: day }));
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    await expectStatus(409, call('POST', '/processing/nightly/run', { date: tomorrow }));
    await expectStatus(200, call('PUT', '/processing/nightly', { inProgress: false }));
    await expectStatus(400, call('PUT', '/processing/nightly', {}));
    await expectStatus(200, call('GET', `/reports/hourly?campaignId=${campaign.id}`));
    await expectStatus(400, call('GET', '/reports/hourly?from=noon'));
    await expectStatus(200, call('GET', `/reports/daily?from=${day}&to=${day}`));
    await expectStatus(400, call('GET', '/reports/daily?limit=0'));

    // Batches
    const file = Buffer.from(`Password\tTransactionID\tAP\ndoc-password\t${created.body.id}\t1.25\n`);
    const raw = { type: 'text/plain', bytes: file };
    const batch = await call('POST', '/batches?filename=doc.txt', undefined, { raw });
    expect(batch.status).toBe(202);
    await expectStatus(400, call('POST', '/batches', undefined, { raw }));
    await expectStatus(200, call('GET', '/batches?limit=5'));
    await expectStatus(400, call('GET', '/batches?limit=0'));
    await expectStatus(200, call('GET', `/batches/${batch.body.id}`));
    await expectStatus(404, call('GET', '/batches/987654321'));
    await expectStatus(200, call('GET', `/batches/${batch.body.id}/results`));
    await expectStatus(404, call('GET', '/batches/987654321/results'));

    // Merchants and their users
    const ownedCampaign = await buildCampaign(services);
    const merchant = await call('POST', '/merchants', { name: 'Documented Brand', campaignIds: [ownedCampaign.id] });
    expect(merchant.status).toBe(201);
    await expectStatus(409, call('POST', '/merchants', { name: 'Rival', campaignIds: [ownedCampaign.id] }));
    await expectStatus(200, call('GET', '/merchants'));
    await expectStatus(200, call('GET', `/merchants/${merchant.body.id}`));
    await expectStatus(404, call('GET', '/merchants/987654321'));
    await expectStatus(200, call('PATCH', `/merchants/${merchant.body.id}`, { selfService: true }));
    await expectStatus(400, call('PATCH', `/merchants/${merchant.body.id}`, { name: '' }));
    const merchantUser = await call('POST', `/merchants/${merchant.body.id}/users`, {
      email: 'ops@documented.example',
      name: 'Ops',
    });
    expect(merchantUser.status).toBe(201);
    await expectStatus(
      409,
      call('POST', `/merchants/${merchant.body.id}/users`, { email: 'OPS@documented.example', name: 'Twin' }),
    );
    await expectStatus(200, call('GET', `/merchants/${merchant.body.id}/users`));
    await expectStatus(404, call('GET', '/merchants/987654321/users'));
    await expectStatus(201, call('POST', `/merchants/${merchant.body.id}/users/${merchantUser.body.user.id}/link`));
    await expectStatus(404, call('POST', `/merchants/987654321/users/${merchantUser.body.user.id}/link`));
    await expectStatus(
      200,
      call('PATCH', `/merchants/${merchant.body.id}/users/${merchantUser.body.user.id}`, { disabled: true }),
    );
    await expectStatus(404, call('PATCH', `/merchants/${merchant.body.id}/users/987654321`, { disabled: true }));

    // Event types
    const eventType = await call('POST', '/event-types', {
      campaignId: campaign.id,
      name: 'Doc sale',
      payout: { type: 'percent', value: '10' },
    });
    expect(eventType.status).toBe(201);
    await expectStatus(400, call('POST', '/event-types', { campaignId: campaign.id, name: 'x' }));
    await expectStatus(200, call('GET', `/event-types?campaignId=${campaign.id}`));
    await expectStatus(400, call('GET', '/event-types?campaignId=0'));
    await expectStatus(200, call('GET', `/event-types/${eventType.body.id}`));
    await expectStatus(404, call('GET', '/event-types/987654321'));
    await expectStatus(200, call('PATCH', `/event-types/${eventType.body.id}`, { lockingDays: 10 }));
    await expectStatus(404, call('PATCH', '/event-types/987654321', { lockingDays: 10 }));

    // Intake
    const intake = `/campaigns/${campaign.id}/intake`;
    await expectStatus(200, call('GET', intake));
    await expectStatus(404, call('GET', '/campaigns/987654321/intake'));
    await expectStatus(409, call('POST', `${intake}/email-address`));
    await expectStatus(409, call('POST', `${intake}/pull`));
    const pull = { protocol: 'ftp', host: '127.0.0.1', port: 1, username: 'network', password: 'pull-password' };
    await expectStatus(200, call('PUT', intake, { upload: true, email: true, pull }));
    await expectStatus(400, call('PUT', intake, { upload: 'yes' }));
    await expectStatus(200, call('POST', `${intake}/email-address`));
    await expectStatus(200, call('POST', `${intake}/pull`));
    const user = await call('POST', `${intake}/credentials`, {});
    expect(user.status).toBe(201);
    await expectStatus(404, call('POST', '/campaigns/987654321/intake/credentials', {}));
    await expectStatus(204, call('DELETE', `${intake}/credentials/${user.body.username}`));
    await expectStatus(404, call('DELETE', `${intake}/credentials/nobody-here`));
    const merchantIntake = `/merchants/${merchant.body.id}/intake/credentials`;
    const merchantUpload = await call('POST', merchantIntake, {});
    expect(merchantUpload.status).toBe(201);
    await expectStatus(404, call('POST', '/merchants/987654321/intake/credentials', {}));
    await expectStatus(204, call('DELETE', `${merchantIntake}/${merchantUpload.body.username}`));
    await expectStatus(404, call('DELETE', `${merchantIntake}/nobody-here`));
    const merchantAddress = `/merchants/${merchant.body.id}/intake/email-address`;
    await expectStatus(200, call('GET', merchantAddress));
    await expectStatus(404, call('GET', '/merchants/987654321/intake/email-address'));
    await expectStatus(200, call('POST', merchantAddress));
    await expectStatus(404, call('POST', '/merchants/987654321/intake/email-address'));
    await expectStatus(204, call('DELETE', merchantAddress));
    await expectStatus(404, call('DELETE', merchantAddress));

    // impact.com API accounts
    const account = await call('POST', '/api-accounts', { name: 'Doc account', campaignIds: [campaign.id] });
    expect(account.status).toBe(201);
    await expectStatus(400, call('POST', '/api-accounts', { name: 'x', campaignIds: [] }));
    await expectStatus(200, call('GET', '/api-accounts'));
    await expectStatus(200, call('DELETE', `/api-accounts/${account.body.accountSid}`));
    await expectStatus(404, call('DELETE', '/api-accounts/no-such-sid'));

    // Routes without input: their typical refusal is a missing token.
    for (const path of ['/processing', '/api-accounts', '/merchants', '/openapi.json'])
      await expectStatus(401, call('GET', path, undefined, { token: null }));

    // Every operation was seen succeeding and refusing.
    const incomplete = documentedRoutes(document).filter((key) => {
      const statuses = [...(api.seen.get(key) ?? [])];
      return !statuses.some((s) => s < 300) || !statuses.some((s) => s >= 400);
    });
    expect(incomplete).toEqual([]);
  });
});
