import { testEngines } from '../support/databases';
import { buildCampaign } from '../support/factories';
import { TEST_ADMIN_TOKEN, useTestServer } from '../support/test-server';
import { json, runTxedit } from './run-cli';

const ONE_LINE = /^txedit: [^\n]+\n$/;

describe.each(testEngines())('txedit api-accounts against a live server on %s', (engine) => {
  const context = useTestServer(engine);
  const txedit = (...argv: string[]) =>
    runTxedit(argv, { env: { ADMIN_TOKEN: TEST_ADMIN_TOKEN, TXEDIT_URL: context.server.baseUrl } });

  it('creates an account for two campaigns, shows its token once, lists it without the token and revokes it', async () => {
    const first = await buildCampaign(context.server.services);
    const second = await buildCampaign(context.server.services);
    const created = await txedit(
      'api-accounts',
      'create',
      '--name',
      'Returns robot',
      '--campaign',
      String(second.id),
      '--campaign',
      String(first.id),
    );
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const sid = /^Account SID: +(\S+)\n/m.exec(created.stdout)?.[1] ?? '';
    const token = /^Auth token: +(\S+)\n/m.exec(created.stdout)?.[1] ?? '';
    expect(sid).toMatch(/^[A-Za-z0-9]+$/);
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect(created.stdout).toContain('The token is shown only now');

    const listed = await txedit('api-accounts', 'list');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^ACCOUNT SID\s+NAME\s+CAMPAIGNS\s+CREATED\s+REVOKED\n/);
    const line = listed.stdout.split('\n').find((l) => l.startsWith(sid)) ?? '';
    expect(line).toContain('Returns robot');
    expect(line).toContain([first.id, second.id].sort((a, b) => a - b).join(', '));
    expect(line).toMatch(/\s-$/);
    expect(listed.stdout).not.toContain(token);

    const asJson = json<Array<Record<string, unknown>>>(await txedit('api-accounts', 'list', '--json'));
    const mine = asJson.find((a) => a.accountSid === sid);
    expect(mine).toMatchObject({ name: 'Returns robot', revokedAt: null });
    expect(JSON.stringify(asJson)).not.toContain(token);

    const revoked = await txedit('api-accounts', 'revoke', sid);
    expect(revoked).toEqual({ code: 0, stdout: `revoked API account ${sid}\n`, stderr: '' });
    const after = json<Array<Record<string, unknown>>>(await txedit('api-accounts', 'list', '--json'));
    expect(after.find((a) => a.accountSid === sid)?.revokedAt).not.toBeNull();
  });

  it('prints the new account as JSON with --json', async () => {
    const campaign = await buildCampaign(context.server.services);
    const created = json<{ accountSid: string; authToken: string }>(
      await txedit('api-accounts', 'create', '--name', 'JSON client', '--campaign', String(campaign.id), '--json'),
    );
    expect(created.accountSid).toMatch(/^[A-Za-z0-9]+$/);
    expect(typeof created.authToken).toBe('string');
  });

  it('refuses bad arguments before any request, in one line', async () => {
    const noCampaign = await txedit('api-accounts', 'create', '--name', 'x');
    expect(noCampaign.code).toBe(2);
    expect(noCampaign.stderr).toMatch(ONE_LINE);
    const badCampaign = await txedit('api-accounts', 'create', '--name', 'x', '--campaign', 'abc');
    expect([badCampaign.code, badCampaign.stderr]).toEqual([
      2,
      'txedit: --campaign must be a positive whole number, not "abc"\n',
    ]);
    const badSid = await txedit('api-accounts', 'revoke', 'IR../x');
    expect([badSid.code, badSid.stderr]).toEqual([2, 'txedit: account SID must be letters and digits, not "IR../x"\n']);
  });

  it('says in one line when the campaign does not exist', async () => {
    const run = await txedit('api-accounts', 'create', '--name', 'x', '--campaign', '2147483000');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(ONE_LINE);
    expect(run.stderr).toContain('2147483000');
  });
});
