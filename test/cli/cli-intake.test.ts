import { testEngines } from '../support/databases';
import { buildCampaign } from '../support/factories';
import { TEST_ADMIN_TOKEN, useTestServer } from '../support/test-server';
import { json, runTxedit } from './run-cli';

describe.each(testEngines())('txedit intake against a live server on %s', (engine) => {
  const context = useTestServer(engine, { SMTP_DOMAIN: 'files.example.test' });
  const txedit = (argv: string[], stdin?: string) =>
    runTxedit(argv, { env: { ADMIN_TOKEN: TEST_ADMIN_TOKEN, TXEDIT_URL: context.server.baseUrl }, stdin });

  it('sets upload, e-mail and pull, creates and revokes a user, renews the address, shows it all', async () => {
    const { id } = await buildCampaign(context.server.services);
    const cid = String(id);
    const set = await txedit(
      [
        'intake',
        'set',
        cid,
        '--upload',
        '--email',
        '--pull-protocol',
        'sftp',
        '--pull-host',
        'files.brand.example',
        '--pull-username',
        'network',
        '--pull-password',
        '--stdin',
        '--json',
      ],
      'brand-secret\n',
    );
    expect(set).toMatchObject({ code: 0, stderr: '' });
    expect(json(set)).toMatchObject({
      upload: true,
      email: true,
      emailAddress: expect.stringMatching(/@files\.example\.test$/),
      pull: { protocol: 'sftp', host: 'files.brand.example', port: 22, directory: '/', passwordSet: true },
    });
    const created = await txedit(['intake', 'credentials', 'create', cid, '--username', `brand-${cid}`]);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/Password:\s+\S{24}\s+\(shown this once\)/);
    const renewed = await txedit(['intake', 'email-address', cid]);
    expect(renewed.stdout.trim()).not.toBe((json(set) as { emailAddress: string }).emailAddress);
    expect((await txedit(['intake', 'credentials', 'revoke', cid, `brand-${cid}`])).stdout).toBe(
      `revoked brand-${cid}\n`,
    );
    const shown = await txedit(['intake', 'show', cid]);
    expect(shown.stdout).toContain(`brand-${cid} (revoked `);
    expect(shown.stdout).toContain('sftp://network@files.brand.example:22/');
    expect(shown.stdout).not.toContain('brand-secret');
    const off = await txedit(['intake', 'set', cid, '--no-pull', '--no-email', '--json']);
    expect(json(off)).toMatchObject({ upload: true, email: false, pull: null });
  });
});
