import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as intakeMigration from '../../db/migrations/20261205200000_intake';
import * as batchCampaignUnsigned from '../../db/migrations/20261205200100_batch_campaign_unsigned';
import * as intakePullHostKey from '../../db/migrations/20261205400000_intake_pull_host_key';
import * as intakeUserMerchant from '../../db/migrations/20261206300100_intake_user_merchant';
import * as intakeEmailMerchant from '../../db/migrations/20261207100000_intake_email_merchant';
import { messageOf } from '../../src/batch/run-row';
import type { RowResult } from '../../src/core/row-result';
import { testEngines } from '../support/databases';
import { buildAffiliate, buildCampaign, buildTransaction, rollUpToNow } from '../support/factories';
import { adminRequest, useTestServer } from '../support/test-server';
import { drainBatches, fetchResults, tabFile } from '../batch/batch-helpers';

const intakeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'txedit-intake-api-'));
afterAll(() => fs.rmSync(intakeDir, { recursive: true, force: true }));

describe.each(testEngines())('campaign intake settings and credentials on %s', (engine) => {
  const context = useTestServer(engine, { INTAKE_DIR: intakeDir, SMTP_DOMAIN: 'intake.example.test' });
  const api = (method: string, url: string, body?: unknown) => adminRequest(context.server.baseUrl, method, url, body);
  const services = () => context.server.services;

  it('migrations go down and up again (before any batch of a campaign above the signed range), and up is safe to re-run', async () => {
    const { knex } = services().db;
    await batchCampaignUnsigned.down(knex);
    await batchCampaignUnsigned.up(knex);
    await batchCampaignUnsigned.up(knex);
    const { intake } = services().stores;
    await intake.replaceAddress({ merchantId: 7 }, 'm7-before@intake.example.test', Date.now());
    await intake.claimMessage({ idSha256: 'f'.repeat(64), merchantId: 7, sender: null }, Date.now());
    await intakeEmailMerchant.down(knex);
    // A merchant's rows have no campaign: they go with the column.
    expect(await knex('intake_email_addresses').where({ address: 'm7-before@intake.example.test' })).toEqual([]);
    expect(await knex('intake_messages').where({ message_id_sha256: 'f'.repeat(64) })).toEqual([]);
    expect(await knex.schema.hasColumn('intake_email_addresses', 'merchant_id')).toBe(false);
    expect(await knex.schema.hasColumn('intake_messages', 'merchant_id')).toBe(false);
    await intakeEmailMerchant.down(knex);
    await intakeUserMerchant.down(knex);
    expect(await knex.schema.hasColumn('intake_users', 'merchant_id')).toBe(false);
    await intakePullHostKey.down(knex);
    expect(await knex.schema.hasColumn('intake_settings', 'pull_host_key_sha256')).toBe(false);
    await intakeMigration.down(knex);
    expect(await knex.schema.hasTable('intake_users')).toBe(false);
    await intakeMigration.up(knex);
    await intakeMigration.up(knex);
    await intakePullHostKey.up(knex);
    await intakePullHostKey.up(knex);
    expect(await knex.schema.hasColumn('intake_settings', 'pull_host_key_sha256')).toBe(true);
    await intakeUserMerchant.up(knex);
    await intakeUserMerchant.up(knex);
    expect(await knex.schema.hasColumn('intake_users', 'merchant_id')).toBe(true);
    await intakeEmailMerchant.up(knex);
    await intakeEmailMerchant.up(knex);
    expect(await knex.schema.hasColumn('intake_email_addresses', 'merchant_id')).toBe(true);
    expect(await knex.schema.hasColumn('intake_messages', 'merchant_id')).toBe(true);
    await intake.replaceAddress({ merchantId: 7 }, 'm7-after@intake.example.test', Date.now());
    expect(await intake.currentAddress({ merchantId: 7 })).toMatchObject({ campaignId: null, merchantId: 7 });
    for (const table of [
      'intake_settings',
      'intake_users',
      'intake_email_addresses',
      'intake_pulled_files',
      'intake_messages',
    ])
      expect(await knex.schema.hasTable(table)).toBe(true);
  });

  it('answers an unknown campaign with 404 and a new one with everything off', async () => {
    expect((await api('GET', '/campaigns/987654/intake')).status).toBe(404);
    const campaign = await buildCampaign(services());
    const { status, body } = await api('GET', `/campaigns/${campaign.id}/intake`);
    expect(status).toBe(200);
    expect(body).toEqual({
      campaignId: campaign.id,
      upload: false,
      email: false,
      emailAddress: null,
      pull: null,
      lastPull: null,
      users: [],
    });
  });

  it('sets pull settings, seals the password and never answers it back', async () => {
    const campaign = await buildCampaign(services());
    const url = `/campaigns/${campaign.id}/intake`;
    const pull = { protocol: 'sftp', host: 'files.brand.example', directory: '/out', username: 'network' };
    expect((await api('PUT', url, { upload: true, email: false, pull })).body.error.message).toBe(
      'pull.password: is required',
    );
    const set = await api('PUT', url, { upload: true, email: false, pull: { ...pull, password: 's3cret-pw' } });
    expect(set.status).toBe(200);
    expect(set.body.pull).toEqual({ ...pull, port: 22, passwordSet: true, hostKeySha256: null });
    expect(JSON.stringify(set.body)).not.toContain('s3cret-pw');
    const row = await services().db.knex('intake_settings').where({ campaign_id: campaign.id }).first();
    expect(row.pull_password_sealed).toMatch(/^v1:/);
    expect(row.pull_password_sealed).not.toContain('s3cret');
    expect(fs.statSync(path.join(intakeDir, 'intake-secret.key')).mode & 0o777).toBe(0o600);
    // Left out, the password is kept.
    const again = await api('PUT', url, { upload: true, email: false, pull: { ...pull, port: 2222 } });
    expect(again.body.pull).toMatchObject({ port: 2222, passwordSet: true });
    const kept = await services().stores.intake.settings(campaign.id);
    expect(kept?.pull?.passwordSealed).toBe(row.pull_password_sealed);

    const bad = await api('PUT', url, { upload: 'yes', email: false, pull: { ...pull, protocol: 'gopher' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
  });

  it('creates upload users answering the password once, refuses a taken name, revokes', async () => {
    const campaign = await buildCampaign(services());
    const url = `/campaigns/${campaign.id}/intake/credentials`;
    const created = await api('POST', url, {});
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      campaignId: campaign.id,
      username: expect.stringMatching(/^c\d+-[0-9a-f]{8}$/),
      password: expect.stringMatching(/^[A-Za-z0-9_-]{24}$/),
    });
    const named = await api('POST', url, { username: `brand-${campaign.id}` });
    expect(named.status).toBe(201);
    expect((await api('POST', url, { username: `brand-${campaign.id}` })).status).toBe(409);
    expect((await api('POST', url, { username: '../etc' })).status).toBe(400);
    const shown = await api('GET', `/campaigns/${campaign.id}/intake`);
    expect(JSON.stringify(shown.body)).not.toContain(created.body.password);
    expect(shown.body.users.map((u: { username: string }) => u.username)).toEqual([
      created.body.username,
      `brand-${campaign.id}`,
    ]);
    const hash = (await services().stores.intake.user(created.body.username))?.passwordHash;
    expect(hash).toMatch(/^\$2[aby]\$/);

    expect((await api('DELETE', `${url}/${created.body.username}`)).status).toBe(204);
    expect((await api('DELETE', `${url}/${created.body.username}`)).status).toBe(404);
    const after = await api('GET', `/campaigns/${campaign.id}/intake`);
    expect(after.body.users[0].revokedAt).not.toBeNull();
  });

  it('gives an e-mail address on SMTP_DOMAIN and regenerates it, retiring the old one', async () => {
    const campaign = await buildCampaign(services());
    const url = `/campaigns/${campaign.id}/intake`;
    expect((await api('POST', `${url}/email-address`)).status).toBe(409);
    const set = await api('PUT', url, { upload: false, email: true, pull: null });
    const first = set.body.emailAddress as string;
    expect(first).toMatch(/^[0-9a-f]{20}@intake\.example\.test$/);
    expect(await services().intakeDoors.recipient(first.toUpperCase())).toEqual({ campaignId: campaign.id });
    const renewed = await api('POST', `${url}/email-address`);
    expect(renewed.status).toBe(200);
    expect(renewed.body.emailAddress).not.toBe(first);
    expect(await services().intakeDoors.recipient(first)).toBeNull();
    expect(await services().intakeDoors.recipient(renewed.body.emailAddress)).toEqual({ campaignId: campaign.id });
  });

  it('refuses to pull from a private address before connecting, and shows the attempt', async () => {
    const campaign = await buildCampaign(services());
    const url = `/campaigns/${campaign.id}/intake`;
    const pull = { protocol: 'ftp', host: '127.0.0.1', port: 1, username: 'u', password: 'p' };
    await api('PUT', url, { upload: false, email: false, pull });
    const ran = await api('POST', `${url}/pull`);
    expect(ran.status).toBe(200);
    expect(ran.body.taken).toEqual([]);
    expect(ran.body.error).toBe('private network address refused: 127.0.0.1 (loopback, from 127.0.0.1)');
    const shown = await api('GET', url);
    expect(shown.body.lastPull).toEqual({ at: ran.body.at, taken: 0, error: ran.body.error });
  });

  it('keeps a Lead Poster file taken in for a campaign off other campaigns’ transactions', async () => {
    const affiliate = await buildAffiliate(services());
    const own = await buildCampaign(services());
    const other = await buildCampaign(services());
    const mine = await buildTransaction(services(), own, affiliate);
    const theirs = await buildTransaction(services(), other, affiliate);
    await rollUpToNow(services());
    const file = tabFile([
      ['Password', 'TransactionID', 'AP'],
      [own.password!, String(mine.id), '1.25'],
      [other.password!, String(theirs.id), '1.25'],
    ]);
    const taken = await services().intakeDoors.take({
      campaignId: own.id,
      channel: 'ftp',
      submittedBy: 'brand',
      filename: 'mods.txt',
      bytes: Buffer.from(file),
      clientIp: '127.0.0.1',
    });
    expect(taken.ok).toBe(true);
    if (!taken.ok) return;
    await drainBatches(services());
    const { results } = await fetchResults(context.server.baseUrl, taken.batch.id);
    expect(results.map((r: RowResult) => [r.rowNumber, r.succeeded, r.message])).toEqual([
      [1, true, expect.any(String)],
      [2, false, messageOf({ kind: 'invalid_transaction' })],
    ]);
  });
});
