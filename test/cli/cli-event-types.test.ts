import { testEngines } from '../support/databases';
import { buildCampaign } from '../support/factories';
import { TEST_ADMIN_TOKEN, useTestServer } from '../support/test-server';
import { json, runTxedit } from './run-cli';

const ONE_LINE = /^txedit: [^\n]+\n$/;
let nextSuppliedId = 1_900_000_000 - (process.pid % 1000) * 100_000;

describe.each(testEngines())('txedit event-types against a live server on %s', (engine) => {
  const context = useTestServer(engine);
  const txedit = (...argv: string[]) =>
    runTxedit(argv, { env: { ADMIN_TOKEN: TEST_ADMIN_TOKEN, TXEDIT_URL: context.server.baseUrl } });

  it('creates an event type with a supplied id, percent payout and custom codes, and shows it', async () => {
    const campaign = await buildCampaign(context.server.services);
    const id = nextSuppliedId--;
    const created = await txedit(
      'event-types',
      'create',
      '--campaign',
      String(campaign.id),
      '--id',
      String(id),
      '--name',
      'Online sale',
      '--percent',
      '12.5',
      '--locking-days',
      '45',
      '--code',
      'Late_Return=reverse',
      '--code',
      'VIP=approve',
    );
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(created.stdout).toMatch(new RegExp(`^created event type ${id}\\n`));
    expect(await context.server.services.eventTypes.get(id)).toMatchObject({
      campaignId: campaign.id,
      name: 'Online sale',
      lockingDays: 45,
      payout: { type: 'percent', value: 125_000n },
      dispositionCodes: [
        { code: 'Late_Return', effect: 'reverse' },
        { code: 'VIP', effect: 'approve' },
      ],
    });
    const shown = await txedit('event-types', 'show', String(id));
    expect(shown.stdout).toContain('Payout:                       12.50 %\n');
    expect(shown.stdout).toContain('Custom codes:                 Late_Return reverse, VIP approve\n');
    expect(json(await txedit('event-types', 'show', String(id), '--json'))).toMatchObject({
      id,
      payout: { type: 'percent', value: '12.50' },
    });
  });

  it('lists a campaign’s event types as a table and as JSON', async () => {
    const campaign = await buildCampaign(context.server.services);
    const created = json<{ id: number }>(
      await txedit(
        'event-types',
        'create',
        '--campaign',
        String(campaign.id),
        '--name',
        'Lead',
        '--fixed',
        '5',
        '--json',
      ),
    );
    const listed = await txedit('event-types', 'list', '--campaign', String(campaign.id));
    expect(listed.stdout).toMatch(
      new RegExp(
        `^ID\\s+CID\\s+NAME\\s+LOCKING DAYS\\s+PAYOUT\\s+CUSTOM CODES\\n${created.id}\\s+${campaign.id}\\s+Lead\\s+30\\s+5\\.00 fixed\\s+-\\n$`,
      ),
    );
    expect(
      json<Array<{ id: number }>>(await txedit('event-types', 'list', '--campaign', String(campaign.id), '--json')),
    ).toEqual([expect.objectContaining({ id: created.id, lockingDays: 30 })]);
    const other = await buildCampaign(context.server.services);
    expect((await txedit('event-types', 'list', '--campaign', String(other.id))).stdout).toBe('no event types\n');
  });

  it('updates settings, replaces the codes with --code and clears them with --no-codes', async () => {
    const campaign = await buildCampaign(context.server.services);
    const { id } = json<{ id: number }>(
      await txedit(
        'event-types',
        'create',
        '--campaign',
        String(campaign.id),
        '--name',
        'Sale',
        '--percent',
        '10',
        '--code',
        'Old=modify',
        '--json',
      ),
    );
    const updated = await txedit(
      'event-types',
      'update',
      String(id),
      '--fixed',
      '2.50',
      '--code',
      'New=reverse',
      '--json',
    );
    expect(json(updated)).toMatchObject({
      payout: { type: 'fixed', value: '2.50' },
      dispositionCodes: [{ code: 'New', effect: 'reverse' }],
      name: 'Sale',
    });
    expect(json(await txedit('event-types', 'update', String(id), '--no-codes', '--json'))).toMatchObject({
      dispositionCodes: [],
    });
  });

  it('reports refusals as one line: the API’s (exit 1) and usage (exit 2)', async () => {
    const campaign = await buildCampaign(context.server.services);
    const cid = String(campaign.id);
    const standard = await txedit(
      'event-types',
      'create',
      '--campaign',
      cid,
      '--name',
      'x',
      '--percent',
      '1',
      '--code',
      'rejected=modify',
    );
    expect(standard.code).toBe(1);
    expect(standard.stderr).toBe(
      'txedit: dispositionCodes.0.code: "rejected" is a standard disposition code; custom codes must differ from those (HTTP 400)\n',
    );
    const tooMuch = await txedit('event-types', 'create', '--campaign', cid, '--name', 'x', '--percent', '100.5');
    expect([tooMuch.code, tooMuch.stderr]).toEqual([
      1,
      'txedit: payout.value: a percent payout must be at most 100 (HTTP 400)\n',
    ]);
    const missing = await txedit('event-types', 'show', '2147483647');
    expect([missing.code, missing.stderr]).toEqual([1, 'txedit: event type 2147483647 not found (HTTP 404)\n']);
    for (const argv of [
      ['event-types', 'create', '--campaign', cid, '--name', 'x'],
      ['event-types', 'create', '--campaign', cid, '--name', 'x', '--percent', '1', '--fixed', '1'],
      ['event-types', 'create', '--name', 'x', '--percent', '1'],
      ['event-types', 'create', '--campaign', cid, '--percent', '1'],
      ['event-types', 'create', '--campaign', cid, '--name', 'x', '--percent', '1', '--code', 'NoEffect'],
      ['event-types', 'update', '5'],
      ['event-types', 'update', '5', '--code', 'A=modify', '--no-codes'],
      ['event-types', 'update', '5', '--locking-days', 'soon'],
    ]) {
      const run = await txedit(...argv);
      expect({ argv, code: run.code, stdout: run.stdout }).toEqual({ argv, code: 2, stdout: '' });
      expect(run.stderr).toMatch(ONE_LINE);
    }
  });
});
