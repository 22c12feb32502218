import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Command } from 'commander';
import { registerPostCommand, type PostCommandIo } from '../../../src/batch/lead-poster/command';
import { testEngines } from '../../support/databases';
import { buildAffiliate, buildCampaign, buildTransaction, rollUpToNow } from '../../support/factories';
import { useTestServer } from '../../support/test-server';

interface CliRun {
  code: number | undefined;
  stdout: string;
  stderr: string;
}

/** Runs `txedit post …` in-process, capturing output and the exit code instead of ending the process. */
async function runCli(args: string[], extra: Partial<PostCommandIo> = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  let code: number | undefined;
  const program = new Command('txedit');
  registerPostCommand(program, {
    stdout: { write: (text: string) => (stdout += text) },
    // Not a terminal: no progress bar, as when piped.
    stderr: Object.assign(
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          stderr += chunk.toString();
          done();
        },
      }),
      { isTTY: false },
    ),
    exit: (exitCode) => {
      code ??= exitCode;
    },
    setExitCode: (exitCode) => {
      code = exitCode;
    },
    onInterrupt: () => () => undefined,
    sleep: async () => undefined,
    ...extra,
  });
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (error) {
    // exitOverride throws after reporting the exit code; anything else is a real failure.
    if (code === undefined) throw error;
  }
  return { code, stdout, stderr };
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lead-poster-cli-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeInput(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

describe.each(testEngines())('txedit post against a live server on %s', (engine) => {
  const context = useTestServer(engine);

  async function scene() {
    const affiliate = await buildAffiliate(context.server.services);
    const campaign = await buildCampaign(context.server.services);
    const t1 = await buildTransaction(context.server.services, campaign, affiliate);
    const t2 = await buildTransaction(context.server.services, campaign, affiliate);
    await rollUpToNow(context.server.services);
    return { password: campaign.password as string, t1, t2 };
  }

  it('applies the file, prints the summary, exits 0; a re-run skips every row and applies nothing twice', async () => {
    const { password, t1, t2 } = await scene();
    const file = writeInput('mods.txt', [
      'Password\tTransactionID\tAP\tA',
      `${password}\t${t1.id}\t4.00\tno`,
      `${password}\t${t2.id}\t5.00\tyes`,
    ]);

    const first = await runCli(['post', file, '--url', context.server.baseUrl]);
    expect(first).toEqual({
      code: 0,
      stdout: `posted 2 rows: 2 succeeded, 0 failed, 0 skipped (already done) — results in ${file}.results.csv\n`,
      stderr: '',
    });

    const second = await runCli([
      'post',
      file,
      '--url',
      `${context.server.baseUrl}/transaction.edit`,
      '--concurrency',
      '2',
    ]);
    expect(second).toEqual({
      code: 0,
      stdout: `posted 0 rows: 0 succeeded, 0 failed, 2 skipped (already done) — results in ${file}.results.csv\n`,
      stderr: '',
    });
    for (const t of [t1, t2])
      expect(await context.server.services.stores.modifications.listForTransaction(t.id)).toHaveLength(1);
  });

  it('exits 1 when a row failed, prints JSON with --json, and never shows the password', async () => {
    const { password, t1, t2 } = await scene();
    const file = writeInput('mods.csv', [
      'Password,TransactionID,AP',
      `${password},${t1.id},4.00`,
      `${password}x,${t2.id},5.00`,
    ]);
    const results = path.join(dir, 'out.csv');

    const run = await runCli([
      'post',
      file,
      '--url',
      context.server.baseUrl,
      '--json',
      '--results',
      results,
      '--retries',
      '0',
    ]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({
      resultsPath: results,
      total: 2,
      posted: 2,
      succeeded: 1,
      failed: 1,
      skipped: 0,
      allSucceeded: false,
    });
    expect(fs.readFileSync(results, 'utf8')).toContain(
      `\r\n2,False,Permanent failure: Invalid authentication credentials,${t2.id},,,\r\n`,
    );

    // A re-run skips the permanent failure, says so, and still exits 1: not every row succeeded.
    const again = await runCli(['post', file, '--url', context.server.baseUrl, '--results', results]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('1 skipped row had failed permanently before; --repost-failed posts them again\n');

    for (const output of [run.stdout, run.stderr, again.stdout, again.stderr, fs.readFileSync(results, 'utf8')]) {
      expect(output).not.toContain(password);
    }
  });
});

describe('txedit post usage and file errors (exit 2, one line on stderr)', () => {
  const goodFile = () => writeInput('ok.txt', ['Password\tTransactionID\tA', 'pw\t1\tno']);

  it('refuses a missing --url', async () => {
    expect(await runCli(['post', goodFile()])).toEqual({
      code: 2,
      stdout: '',
      stderr: "error: required option '--url <url>' not specified\n",
    });
  });

  it('refuses a --concurrency that is not a positive whole number', async () => {
    const run = await runCli(['post', goodFile(), '--url', 'http://127.0.0.1:9', '--concurrency', '0']);
    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr: "error: option '--concurrency <n>' argument '0' is invalid. expected a whole number from 1 to 100.\n",
    });
  });

  it('refuses a URL that is not http(s)', async () => {
    const run = await runCli(['post', goodFile(), '--url', 'track.example.com']);
    expect(run).toEqual({ code: 2, stdout: '', stderr: 'txedit post: --url: not a URL: track.example.com\n' });
  });

  it('refuses a file that does not exist', async () => {
    const missing = path.join(dir, 'missing.txt');
    expect(await runCli(['post', missing, '--url', 'http://127.0.0.1:9'])).toEqual({
      code: 2,
      stdout: '',
      stderr: `txedit post: cannot read ${missing}: no such file\n`,
    });
  });

  it("refuses a file the parser rejects, with the parser's reason", async () => {
    const file = writeInput('no-id.txt', ['Password\tAP', 'secret-pw\t1.00']);
    const run = await runCli(['post', file, '--url', 'http://127.0.0.1:9']);
    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr: `txedit post: ${file}: missing identifier column: TransactionID, ClickID or MerchantreferenceID + CID\n`,
    });
    expect(fs.existsSync(`${file}.results.csv`)).toBe(false);
  });

  it('refuses a binary file', async () => {
    const file = path.join(dir, 'photo.txt');
    fs.writeFileSync(file, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02]));
    const run = await runCli(['post', file, '--url', 'http://127.0.0.1:9']);
    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr: `txedit post: ${file}: the file is not a text file (binary content)\n`,
    });
  });

  it('stops when asked to, says how to resume, and exits 130', async () => {
    const file = writeInput('tx.txt', ['Password\tTransactionID\tA', 'pw\t1\tno', 'pw\t2\tno']);
    const run = await runCli(['post', file, '--url', 'http://127.0.0.1:9'], { stopRequested: async () => 'SIGTERM' });
    expect(run).toEqual({
      code: 130,
      stdout: `posted 0 rows: 0 succeeded, 0 failed, 0 skipped (already done) — results in ${file}.results.csv\n`,
      stderr:
        'stopping: waiting for the rows in flight (Ctrl-C again to quit at once)\ninterrupted: 2 rows not posted; run the same command again to resume\n',
    });
  });
});
