import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testEngines } from '../support/databases';
import { buildCampaign } from '../support/factories';
import { useTestServer } from '../support/test-server';
import { consoleClient, ConsoleClient } from './console-client';

const intakeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'txedit-console-intake-'));
afterAll(() => fs.rmSync(intakeDir, { recursive: true, force: true }));

describe.each(testEngines())('console: a campaign’s intake page over HTTP on %s', (engine) => {
  const context = useTestServer(engine, { INTAKE_DIR: intakeDir, SMTP_DOMAIN: 'files.example.test' });
  let client: ConsoleClient;
  beforeAll(async () => {
    client = await consoleClient(context.server.baseUrl);
  });
  const services = () => context.server.services;
  const actions = async () => (await services().consoleAudit.recent({ limit: 10 })).map((e) => e.action);

  it('saves settings, shows a new user’s password once, revokes it, renews the address, pulls now', async () => {
    const campaign = await buildCampaign(services());
    const base = `/admin/campaigns/${campaign.id}/intake`;
    expect((await client.get(`/admin/campaigns/${campaign.id}`)).body).toContain(`href="${base}"`);
    const saved = await client.post(base, {
      upload: 'on',
      email: 'on',
      protocol: 'ftp',
      host: '127.0.0.1',
      port: '21',
      directory: '/out',
      username: 'network',
      password: 'brand-secret',
    });
    expect(saved.status).toBe(303);
    const page = await client.get(`${base}?done=saved`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Intake settings saved.');
    expect(page.body).toMatch(/<code>[0-9a-f]{20}@files\.example\.test<\/code>/);
    expect(page.body).not.toContain('brand-secret');

    const created = await client.post(`${base}/credentials`, { username: `brand-${campaign.id}` });
    expect(created.status).toBe(200);
    const password = /password <code>([^<]+)<\/code>/.exec(created.body)?.[1];
    expect(password).toMatch(/^\S{24}$/);
    expect((await client.get(base)).body).not.toContain(password!);

    expect((await client.post(`${base}/credentials/brand-${campaign.id}/revoke`, {})).status).toBe(303);
    expect((await services().intake.show(campaign.id)).users[0].revokedAt).not.toBeNull();
    const before = (await services().intake.show(campaign.id)).emailAddress;
    expect((await client.post(`${base}/email-address`, {})).status).toBe(303);
    expect((await services().intake.show(campaign.id)).emailAddress).not.toBe(before);

    const pulled = await client.post(`${base}/pull`, {});
    expect(pulled.status).toBe(200);
    expect(pulled.body).toContain('The pull failed: <code>private network address refused: 127.0.0.1');
    expect(await actions()).toEqual(
      expect.arrayContaining([
        'intake.settings',
        'intake.user_created',
        'intake.user_revoked',
        'intake.email_address',
        'intake.pull',
      ]),
    );

    const bad = await client.post(base, { protocol: 'sftp', host: 'bad host!', username: '' });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('Type the brand’s host name or IP address.');
  });
});
