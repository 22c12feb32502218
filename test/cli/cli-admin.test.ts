import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';
import { buildAffiliate, buildCampaign, buildScene, buildTransaction, rollUpToNow } from '../support/factories';
import { editByGet } from '../support/linktrust-xml';
import { startTestServer, TestServer, TEST_ADMIN_TOKEN } from '../support/test-server';
import { json, runTxedit } from './run-cli';

const ONE_LINE = /^txedit: [^\n]+\n$/;

describe.each(testEngines())('txedit admin commands against a live server on %s', (engine) => {
  let database: TestDatabase;
  let server: TestServer;
  let env: Record<string, string>;
  let dir: string;
  const txedit = (...argv: string[]) => runTxedit(argv, { env });

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    server = await startTestServer(database.db);
    server.services.batchWorker.start();
    env = { ADMIN_TOKEN: TEST_ADMIN_TOKEN, TXEDIT_URL: server.baseUrl };
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'txedit-cli-'));
  });
  afterAll(async () => {
    await server?.services.batchWorker.stop();
    await server?.close();
    await database?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('shows a campaign with its settings and the three posting URLs for this server', async () => {
    const campaign = await buildCampaign(server.services, { uniqueMerchantReference: true });
    const shown = await txedit('campaigns', 'show', String(campaign.id));
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`Allow external modifications: yes`);
    expect(shown.stdout).toContain(
      `${server.baseUrl}/transaction.edit?Password=value&Merchantreferenceid=value&CID=${campaign.id}&A=no&AP=0.00&MP=0.00&executeaffiliatepixel=Yes`,
    );
    const asJson = json<{ id: number; hasPassword: boolean; postingUrls: Array<{ url: string }> }>(
      await txedit('campaigns', 'show', String(campaign.id), '--json'),
    );
    expect(asJson).toMatchObject({ id: campaign.id, hasPassword: true });
    expect(asJson.postingUrls).toHaveLength(3);
    const listed = json<Array<{ id: number }>>(
      await txedit('campaigns', 'list', '--search', String(campaign.id), '--json'),
    );
    expect(listed.map((c) => c.id)).toEqual([campaign.id]);
  });

  it('turns a campaign’s opt-in off and on with flags, and /transaction.edit obeys', async () => {
    const { campaign, transaction } = await buildScene(server.services);
    const edit = () =>
      editByGet(server.baseUrl, {
        Password: campaign.password as string,
        TransactionID: String(transaction.id),
        A: 'no',
      });
    const off = await txedit(
      'campaigns',
      'set',
      String(campaign.id),
      '--no-allow-external-modification',
      '--whitelist-only',
      '--json',
    );
    expect(off.code).toBe(0);
    expect(json(off)).toMatchObject({
      allowExternalModification: false,
      whitelistOnly: true,
      uniqueMerchantReference: true,
    });
    expect((await edit()).answer.error?.message).toBe(
      'Permanent failure: Campaign does not allow external transaction modification',
    );
    expect(
      (await txedit('campaigns', 'set', String(campaign.id), '--allow-external-modification', '--no-whitelist-only'))
        .code,
    ).toBe(0);
    expect((await edit()).answer.succeeded).toBe('True');
  });

  it('sets a password from stdin, never from an argument', async () => {
    const { campaign, transaction } = await buildScene(server.services);
    const set = await runTxedit(['campaigns', 'set-password', String(campaign.id)], { env, stdin: 'new pass word\n' });
    expect(set).toEqual({
      code: 0,
      stdout: `password set for campaign ${campaign.id}; it is not shown again\n`,
      stderr: '',
    });
    expect(
      (await editByGet(server.baseUrl, { Password: 'new pass word', TransactionID: String(transaction.id), AP: '2' }))
        .answer.succeeded,
    ).toBe('True');
    const empty = await runTxedit(['campaigns', 'set-password', String(campaign.id), '--stdin'], { env, stdin: '\n' });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toBe('txedit: the password is empty; nothing was changed\n');
    const asArgument = await txedit('campaigns', 'set-password', String(campaign.id), 'secret');
    expect(asArgument.code).toBe(2);
    expect(asArgument.stderr).toMatch(ONE_LINE);
  });

  it('adds, lists and removes white-list entries; an invalid range is one line and exit 1', async () => {
    const campaign = await buildCampaign(server.services);
    const added = json<{ id: number; address: string }>(
      await txedit('whitelist', 'add', '2001:DB8::/32', '--campaign', String(campaign.id), '--note', 'Acme', '--json'),
    );
    expect(added.address).toBe('2001:db8::/32');
    const listed = await txedit('whitelist', 'list', '--campaign', String(campaign.id));
    expect(listed.stdout).toMatch(
      new RegExp(
        `^ID\\s+ADDRESS\\s+CAMPAIGN\\s+NOTE\\s+ADDED\\n${added.id}\\s+2001:db8::/32\\s+${campaign.id}\\s+Acme\\s`,
      ),
    );
    const bad = await txedit('whitelist', 'add', '10.0.0.0/33');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('txedit: address "10.0.0.0/33" is not an IPv4/IPv6 address or CIDR range (HTTP 400)\n');
    expect(await txedit('whitelist', 'remove', String(added.id))).toEqual({
      code: 0,
      stdout: `removed entry ${added.id}\n`,
      stderr: '',
    });
    expect(await server.services.stores.whitelist.list({ campaignId: campaign.id })).toEqual([]);
  });

  it('shows a transaction with its history and finds it by click id and by merchant reference', async () => {
    const { campaign, transaction } = await buildScene(server.services);
    await editByGet(server.baseUrl, {
      Password: campaign.password as string,
      TransactionID: String(transaction.id),
      AP: '4.25',
      REASON: 'coupon',
    });
    const shown = await txedit('transactions', 'show', String(transaction.id));
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(
      /History \(oldest first\):\nWHEN\s+SOURCE\s+CLIENT IP\s+AP\s+MP\s+A\s+POSTBACK\s+REASON\n\S+\s+api by transaction_id\s+127\.0\.0\.1\s+10\.00 -> 4\.25\s+100\.00\s+yes\s+not_requested\s+coupon\n$/,
    );
    const history = json<{
      modifications: Array<{ reason: string; before: { affiliatePayout: string }; after: { affiliatePayout: string } }>;
    }>(await txedit('transactions', 'show', String(transaction.id), '--json'));
    expect(history.modifications).toMatchObject([
      { reason: 'coupon', before: { affiliatePayout: '10.00' }, after: { affiliatePayout: '4.25' } },
    ]);
    expect(
      json<Array<{ id: number }>>(
        await txedit('transactions', 'find', '--click-id', transaction.clickId, '--json'),
      ).map((t) => t.id),
    ).toEqual([transaction.id]);
    const byReference = await txedit(
      'transactions',
      'find',
      '--merchant-ref',
      transaction.merchantReferenceId as string,
      '--campaign',
      String(campaign.id),
      '--json',
    );
    expect(json<Array<{ id: number }>>(byReference).map((t) => t.id)).toEqual([transaction.id]);
    const neither = await txedit('transactions', 'find');
    expect(neither).toEqual({
      code: 2,
      stdout: '',
      stderr: 'txedit: give either --click-id, or --merchant-ref with --campaign\n',
    });
    const missing = await txedit('transactions', 'show', '987654321');
    expect(missing).toEqual({ code: 1, stdout: '', stderr: 'txedit: transaction 987654321 not found (HTTP 404)\n' });
  });

  it('lists a failed postback with its attempt and retries it; retrying a pending one is refused', async () => {
    const affiliate = await buildAffiliate(server.services, { postbackUrl: 'http://127.0.0.1:9/pb' });
    const campaign = await buildCampaign(server.services);
    const transaction = await buildTransaction(server.services, campaign, affiliate);
    await rollUpToNow(server.services);
    await editByGet(server.baseUrl, {
      Password: campaign.password as string,
      TransactionID: String(transaction.id),
      A: 'no',
      executeaffiliatepixel: 'yes',
    });
    await server.services.postbackWorker.runOnce();
    const [delivery] = json<Array<{ id: number; status: string; attempts: unknown[] }>>(
      await txedit('postbacks', 'list', '--transaction', String(transaction.id), '--json'),
    );
    expect(delivery).toMatchObject({ status: 'failed', attempts: [{ attempt: 1, httpStatus: null }] });
    const table = await txedit('postbacks', 'list', '--transaction', String(transaction.id));
    expect(table.stdout).toContain('private network address refused');
    expect(json(await txedit('postbacks', 'retry', String(delivery.id), '--json'))).toMatchObject({
      id: delivery.id,
      status: 'pending',
    });
    const again = await txedit('postbacks', 'retry', String(delivery.id));
    expect(again).toEqual({
      code: 1,
      stdout: '',
      stderr: `txedit: postback delivery ${delivery.id} is pending; only failed deliveries can be retried (HTTP 409)\n`,
    });
    expect((await txedit('postbacks', 'list', '--status', 'lost')).code).toBe(2);
  });

  it('uploads a batch, waits for it, and prints its status and results', async () => {
    const { campaign, transaction } = await buildScene(server.services);
    const file = path.join(dir, `refunds-${engine}.csv`);
    fs.writeFileSync(
      file,
      `Password,TransactionID,AP,MP,A\r\n${campaign.password},${transaction.id},0.00,0.00,no\r\nnope,${transaction.id},1.00,1.00,yes\r\n`,
    );
    const uploaded = await txedit('batches', 'upload', file, '--wait', '--json');
    expect(uploaded.code).toBe(0);
    const batch = json<{
      id: number;
      state: string;
      records: number;
      succeeded: number;
      failed: number;
      filename: string;
    }>(uploaded);
    expect(batch).toMatchObject({
      state: 'completed',
      records: 2,
      succeeded: 1,
      failed: 1,
      filename: `refunds-${engine}.csv`,
    });
    expect((await txedit('batches', 'status', String(batch.id))).stdout).toMatch(
      /^Batch:\s+\d+\nFile:\s+refunds-\w+\.csv\nState:\s+completed\n/,
    );
    const csv = await txedit('batches', 'results', String(batch.id));
    expect(csv.stdout).toBe(
      'Row,Succeeded,Message,TransactionId,ClickId,MerchantReferenceId,CID\r\n' +
        `1,True,Succeeded,${transaction.id},,,\r\n2,False,Permanent failure: Invalid authentication credentials,${transaction.id},,,\r\n`,
    );
    const output = path.join(dir, `results-${engine}.csv`);
    expect((await txedit('batches', 'results', String(batch.id), '-o', output)).stdout).toBe(
      `wrote 2 result rows to ${output}\n`,
    );
    expect(fs.readFileSync(output, 'utf8')).toBe(csv.stdout);
    const again = json<{ duplicateOf: number; state: string }>(await txedit('batches', 'upload', file, '--json'));
    expect(again).toMatchObject({ duplicateOf: batch.id, state: 'completed' });
    expect(json<Array<{ id: number }>>(await txedit('batches', 'status', '--json'))[0].id).toBeGreaterThan(batch.id);
  });

  it('shows the processing state, rolls up, runs nightly for a past day, and holds and releases it', async () => {
    const status = json<{ hourly: { rolledUpThrough: string | null } }>(await txedit('processing', 'status', '--json'));
    expect(status.hourly).toHaveProperty('rolledUpThrough');
    const through = new Date(Date.now() - 30 * 3_600_000).toISOString().replace(/:\d\d\.\d{3}Z$/, ':00Z');
    expect(json(await txedit('rollup', '--through', through, '--json'))).toHaveProperty('through');
    expect(json(await txedit('processing', 'rollup', '--json'))).toHaveProperty('through');
    const day = new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10);
    const nightly = await txedit('processing', 'nightly', '--date', day);
    expect(nightly).toEqual({
      code: 0,
      stdout: expect.stringMatching(
        new RegExp(`^nightly processing for ${day} \\(UTC\\) completed: \\d+ daily rows; consistent\\n$`),
      ),
      stderr: '',
    });
    expect(json(await txedit('processing', 'hold', '--json'))).toMatchObject({ nightly: { inProgress: true } });
    expect((await txedit('processing', 'status')).stdout).toMatch(/Nightly in progress:\s+yes/);
    expect(json(await txedit('processing', 'release', '--json'))).toMatchObject({ nightly: { inProgress: false } });
    expect(await txedit('nightly', '--date', '2026-02-30')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'txedit: --date must be YYYY-MM-DD (got "2026-02-30")\n',
    });
  });

  it('reads the token from ADMIN_TOKEN or --token-file, and says so in one line when it is wrong or missing', async () => {
    const tokenFile = path.join(dir, 'token');
    fs.writeFileSync(tokenFile, `${TEST_ADMIN_TOKEN}\n`, { mode: 0o600 });
    expect(
      (await runTxedit(['campaigns', 'list', '--token-file', tokenFile], { env: { TXEDIT_URL: server.baseUrl } })).code,
    ).toBe(0);
    const wrong = await runTxedit(['campaigns', 'list'], { env: { TXEDIT_URL: server.baseUrl, ADMIN_TOKEN: 'nope' } });
    expect(wrong).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'txedit: the server refused the admin token (HTTP 401: missing or invalid bearer token); check ADMIN_TOKEN or --token-file\n',
    });
    const none = await runTxedit(['campaigns', 'list'], { env: { TXEDIT_URL: server.baseUrl } });
    expect(none).toEqual({
      code: 2,
      stdout: '',
      stderr: 'txedit: no admin token: set ADMIN_TOKEN in the environment or pass --token-file PATH\n',
    });
    const closedPort = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const noServer = await runTxedit(['campaigns', 'list', '--url', `http://127.0.0.1:${closedPort}`], {
      env: { ADMIN_TOKEN: 'x' },
    });
    expect(noServer).toEqual({
      code: 1,
      stdout: '',
      stderr: `txedit: cannot reach http://127.0.0.1:${closedPort}: ECONNREFUSED (is the server running? see --url / TXEDIT_URL)\n`,
    });
  });

  it('posts a Lead Poster file to /transaction.edit with `txedit post`', async () => {
    const { campaign, transaction } = await buildScene(server.services);
    const file = path.join(dir, `post-${engine}.txt`);
    fs.writeFileSync(
      file,
      `Password\tClickID\tAP\tMP\tA\r\n${campaign.password}\t${transaction.clickId}\t0.00\t0.00\tno\r\n`,
    );
    const posted = await txedit('post', file, '--url', server.baseUrl, '--json');
    expect(posted.code).toBe(0);
    expect(json(posted)).toMatchObject({ succeeded: 1, failed: 0 });
    expect((await server.services.stores.transactions.getById(transaction.id))?.approved).toBe(false);
  });
});

describe('txedit help and usage', () => {
  it('lists every command in `txedit --help`, and every command answers --help with exit 0', async () => {
    const help = await runTxedit(['--help']);
    expect(help.code).toBe(0);
    const commands = [...help.stdout.matchAll(/^ {2}txedit ((?:[a-z-]+ ?)+?)(?: [<[]|\s{2})/gm)].map((m) =>
      m[1].trim(),
    );
    expect(commands).toEqual(
      expect.arrayContaining([
        'campaigns list',
        'campaigns show',
        'campaigns set',
        'campaigns set-password',
        'event-types list',
        'event-types show',
        'event-types create',
        'event-types update',
        'whitelist list',
        'whitelist add',
        'whitelist remove',
        'transactions show',
        'transactions find',
        'postbacks list',
        'postbacks retry',
        'batches upload',
        'batches status',
        'batches results',
        'processing rollup',
        'processing nightly',
        'rollup',
        'nightly',
        'post',
        'worker',
        'migrate',
        'serve',
      ]),
    );
    for (const command of commands) {
      const run = await runTxedit([...command.split(' '), '--help']);
      expect({ command, code: run.code, usage: run.stdout.startsWith(`Usage: txedit ${command}`) }).toEqual({
        command,
        code: 0,
        usage: true,
      });
    }
  });

  it('reports usage errors as one line with exit 2', async () => {
    expect(await runTxedit(['campaign'])).toEqual({
      code: 2,
      stdout: '',
      stderr: "txedit: unknown command 'campaign' (Did you mean campaigns?)\n",
    });
    expect(await runTxedit(['campaigns', 'show', 'abc'], { env: { ADMIN_TOKEN: 'x' } })).toEqual({
      code: 2,
      stdout: '',
      stderr: 'txedit: cid must be a positive whole number, not "abc"\n',
    });
    expect(await runTxedit(['whitelist', 'add'])).toEqual({
      code: 2,
      stdout: '',
      stderr: "txedit: missing required argument 'address'\n",
    });
    expect(await runTxedit(['campaigns', 'set', '5'], { env: { ADMIN_TOKEN: 'x' } })).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(ONE_LINE),
    });
    expect(await runTxedit(['rollup', '--through', 'yesterday'], { env: { ADMIN_TOKEN: 'x' } })).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(ONE_LINE),
    });
  });
});
