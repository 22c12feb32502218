import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import knex, { Knex } from 'knex';
import { hashPassword } from '../src/auth/password-verifier';
import { createStores } from '../src/composition';
import { formatMoney } from '../src/core/money';
import { runHourlyRollup } from '../src/processing/hourly-rollup';
import { Database, migrateToLatest, openDatabase } from '../src/store/database';
import { startNodeFlags } from './engine-run';

// The soak (README, Operations, "Load"): CLIENTS concurrent clients edit TRANSACTIONS transactions for SOAK_SECONDS
// against the production server on MariaDB — valid edits, wrong passwords and unknown transactions —
// recording every answer. Then, from the database: every success answered is in the history exactly
// once with the values it asked for, every failure left no trace, each transaction holds the values of
// its last history row, every requested postback is queued once, and the hourly statistics equal a
// recomputation from the transactions. Prints a summary; exits 1 on any mismatch.
//   SOAK_SECONDS (60)  SOAK_CLIENTS (200)  SOAK_TRANSACTIONS (1000)
//   SOAK_MYSQL_URL (mysql://root@127.0.0.1:3306/test; a private schema is created on that server and dropped)

const HOUR_MS = 3_600_000;
const seconds = Number(process.env.SOAK_SECONDS ?? 60);
const clients = Number(process.env.SOAK_CLIENTS ?? 200);
const transactionCount = Number(process.env.SOAK_TRANSACTIONS ?? 1000);
const CAMPAIGNS = 10;
const AFFILIATES = 5;

/** The seeded affiliate of a transaction; affiliates 1 and 2 have a postback URL. */
const affiliateOf = (transactionId: number) => 1 + (transactionId % AFFILIATES);

type Kind = 'valid' | 'wrong_password' | 'unknown_transaction';
/** One request the clients sent and what came back. */
interface Sent {
  reason: string;
  kind: Kind;
  transactionId: number;
  ap: string;
  a: 'yes' | 'no';
  pixel: boolean;
  /** 'True', the failure message, or what went wrong on the wire. */
  answer: string;
  ms: number;
}

/** A private schema on the server of SOAK_MYSQL_URL, migrated. */
async function createSchema(): Promise<{ db: Database; url: string; drop(): Promise<void> }> {
  const server = new URL(process.env.SOAK_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test');
  const name = `txedit_soak_${process.pid}_${crypto.randomBytes(3).toString('hex')}`;
  const admin = knex({ client: 'mysql2', connection: { uri: server.toString() } as Knex.MySql2ConnectionConfig });
  await admin
    .raw(`create database \`${name}\` character set utf8mb4 collate utf8mb4_bin`)
    .finally(() => admin.destroy());
  server.pathname = `/${name}`;
  const db = openDatabase({ client: 'mysql', url: server.toString() });
  await migrateToLatest(db);
  return {
    db,
    url: server.toString(),
    drop: async () => {
      await db.knex.raw(`drop database if exists \`${name}\``);
      await db.knex.destroy();
    },
  };
}

/** Campaigns 1..CAMPAIGNS (password `soak-<id>`), affiliates 1..AFFILIATES (1 and 2 with a postback URL), transactions 1..N in past hours. */
async function seed(db: Database, postbackUrl: string): Promise<Map<number, { campaignId: number }>> {
  const stores = createStores(db);
  const now = Date.now();
  for (let id = 1; id <= AFFILIATES; id++)
    await stores.affiliates.create(
      { id, name: `Soak affiliate ${id}`, postbackUrl: id <= 2 ? `${postbackUrl}?t=[=_TransID=]` : null },
      now,
    );
  for (let id = 1; id <= CAMPAIGNS; id++) {
    const passwordHash = await hashPassword(`soak-${id}`, 4);
    await stores.campaigns.create(
      stores.units.alone,
      {
        id,
        name: `Soak campaign ${id}`,
        allowExternalModification: true,
        passwordHash,
        whitelistOnly: false,
        uniqueMerchantReference: true,
      },
      now,
    );
  }
  const seeded = new Map<number, { campaignId: number }>();
  const firstHour = Math.floor(now / HOUR_MS) * HOUR_MS - 72 * HOUR_MS;
  for (let start = 1; start <= transactionCount; start += 50) {
    const ids = Array.from({ length: Math.min(50, transactionCount - start + 1) }, (_, i) => start + i);
    await Promise.all(
      ids.map((id) => {
        const campaignId = 1 + (id % CAMPAIGNS);
        seeded.set(id, { campaignId });
        return stores.transactions.create(
          stores.units.alone,
          {
            id,
            clickId: `soak-click-${id}`,
            campaignId,
            affiliateId: affiliateOf(id),
            merchantReferenceId: `SOAK-${id}`,
            subId: null,
            affiliateReferenceId: null,
            affiliatePayout: BigInt(1000 + id * 10),
            merchantRevenue: BigInt(10_000 + id * 100),
            approved: id % 4 !== 0,
            occurredAt: firstHour + (id % 72) * HOUR_MS + (id % 3_600) * 1000,
          },
          now,
        );
      }),
    );
  }
  await runHourlyRollup(stores, { now });
  return seeded;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** The production server (dist/src/server.js) as a child process, once /healthz answers 200. */
async function startServer(databaseUrl: string) {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [...startNodeFlags(path.join(__dirname, '../..')), path.join(__dirname, '../src/server.js')],
    {
      cwd: os.tmpdir(),
      env: {
        PATH: process.env.PATH ?? '',
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: databaseUrl,
        LOG_LEVEL: 'warn',
        BCRYPT_COST: '4',
        RATE_LIMIT_IP_FAILURES: '0',
        RATE_LIMIT_CAMPAIGN_FAILURES: '0',
        // 200 simulated merchants share one loopback address, each with at most one request (and compare) under way.
        BCRYPT_PER_CLIENT: String(clients),
        NIGHTLY_SCHEDULE: 'off',
        POSTBACK_ALLOW_PRIVATE_NETWORKS: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const baseUrl = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 60_000; ;) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}:\n${output}`);
    const status = await fetch(`${baseUrl}/healthz`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) break;
    if (Date.now() > deadline) throw new Error(`the server did not become healthy:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { baseUrl, output: () => output, stop: () => (child.kill('SIGTERM'), exited) };
}

/** The verdict of one answer: 'True', the error message, or a description of a malformed answer. */
async function verdictOf(response: Response): Promise<string> {
  const body = await response.text();
  if (response.status !== 200 || response.headers.get('content-type') !== 'text/xml; charset=utf-8')
    return `HTTP ${response.status} ${response.headers.get('content-type')}`;
  if (!body.startsWith('<?xml version="1.0" encoding="UTF-8"?>') || !body.trimEnd().endsWith('</LinkTrust>'))
    return 'malformed XML';
  if (body.includes('<Succeeded>True</Succeeded>')) return 'True';
  return /<Message>([^<]*)<\/Message>/.exec(body)?.[1] ?? 'failure without a message';
}

/** CLIENTS loops sending requests back to back until the deadline; every request gets a unique REASON. */
async function runLoad(baseUrl: string, seeded: Map<number, { campaignId: number }>): Promise<Sent[]> {
  const sent: Sent[] = [];
  const deadline = Date.now() + seconds * 1000;
  const client = async () => {
    while (Date.now() < deadline) {
      const n = sent.length;
      const roll = crypto.randomInt(100);
      const kind: Kind = roll < 70 ? 'valid' : roll < 85 ? 'wrong_password' : 'unknown_transaction';
      const transactionId =
        kind === 'unknown_transaction'
          ? transactionCount + 1 + crypto.randomInt(1_000_000)
          : 1 + crypto.randomInt(transactionCount);
      const campaignId = seeded.get(transactionId)?.campaignId ?? 1 + crypto.randomInt(CAMPAIGNS);
      const edit: Sent = {
        reason: `soak-${n}`,
        kind,
        transactionId,
        ap: formatMoney(BigInt(crypto.randomInt(10_000_000))),
        a: n % 5 === 0 ? 'no' : 'yes',
        pixel: n % 4 === 0,
        answer: 'no answer',
        ms: 0,
      };
      sent.push(edit);
      const form = new URLSearchParams({
        Password: kind === 'wrong_password' ? `soak-${campaignId}-wrong` : `soak-${campaignId}`,
        Transactionid: String(transactionId),
        AP: edit.ap,
        A: edit.a,
        REASON: edit.reason,
        ...(edit.pixel ? { executeaffiliatepixel: 'yes' } : {}),
      }).toString();
      const started = performance.now();
      try {
        const response =
          n % 2 === 0
            ? await fetch(`${baseUrl}/transaction.edit?${form}`)
            : await fetch(`${baseUrl}/transaction.edit`, {
                method: 'POST',
                headers: { 'content-type': 'application/x-www-form-urlencoded' },
                body: form,
              });
        edit.answer = await verdictOf(response);
      } catch (error) {
        edit.answer = `no answer: ${(error as Error).message}`;
      }
      edit.ms = performance.now() - started;
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  return sent;
}

const EXPECTED: Record<Kind, (answer: string) => boolean> = {
  valid: (answer) =>
    answer === 'True' || /^Temporary failure: .* LinkTrust API was unable to complete the request$/.test(answer),
  wrong_password: (answer) => answer === 'Permanent failure: Invalid authentication credentials',
  unknown_transaction: (answer) => answer === 'Permanent failure: Invalid transaction specified',
};

/** Every check on what the database holds after the load; one line per problem. */
async function check(knexHandle: Knex, sent: Sent[]): Promise<string[]> {
  const problems: string[] = [];
  const problem = (line: string) => problems.length < 50 && problems.push(line);
  for (const edit of sent)
    if (!EXPECTED[edit.kind](edit.answer)) problem(`${edit.reason} (${edit.kind}) was answered "${edit.answer}"`);

  const history = await knexHandle('modifications').orderBy('id');
  const byReason = new Map<string, typeof history>();
  for (const row of history) byReason.set(row.reason, [...(byReason.get(row.reason) ?? []), row]);
  const deliveries = await knexHandle('postback_deliveries');
  const deliveriesOf = new Map<string, number>();
  for (const d of deliveries)
    deliveriesOf.set(String(d.modification_id), (deliveriesOf.get(String(d.modification_id)) ?? 0) + 1);
  const sentByReason = new Map(sent.map((edit) => [edit.reason, edit]));
  for (const edit of sent) {
    const rows = byReason.get(edit.reason) ?? [];
    if (edit.answer !== 'True') {
      if (rows.length > 0) problem(`${edit.reason} answered "${edit.answer}" but left ${rows.length} history row(s)`);
      continue;
    }
    if (rows.length !== 1) {
      problem(`${edit.reason} succeeded but has ${rows.length} history rows`);
      continue;
    }
    const [row] = rows;
    if (Number(row.transaction_id) !== edit.transactionId)
      problem(`${edit.reason}: history row is for transaction ${row.transaction_id}, not ${edit.transactionId}`);
    if (
      formatMoney(BigInt(row.after_affiliate_payout)) !== edit.ap ||
      Boolean(row.after_approved) !== (edit.a === 'yes')
    )
      problem(`${edit.reason}: history row holds other values than asked`);
    const hasPostbackUrl = affiliateOf(edit.transactionId) <= 2;
    const disposition = !edit.pixel ? 'not_requested' : hasPostbackUrl ? 'queued' : 'no_postback_url';
    const expectedDeliveries = disposition === 'queued' ? 1 : 0;
    if (row.postback !== disposition)
      problem(`${edit.reason}: postback disposition "${row.postback}", expected "${disposition}"`);
    if ((deliveriesOf.get(String(row.id)) ?? 0) !== expectedDeliveries)
      problem(
        `${edit.reason}: ${deliveriesOf.get(String(row.id)) ?? 0} postback deliveries, expected ${expectedDeliveries}`,
      );
  }
  for (const [reason] of byReason)
    if (!sentByReason.has(reason)) problem(`history row with reason "${reason}" that no request sent`);
  if (deliveries.length !== [...deliveriesOf.values()].reduce((a, b) => a + b, 0))
    problem('deliveries without a modification');

  // Each transaction holds its last history row's values, and each row starts where the previous ended.
  const transactions = await knexHandle('transactions');
  const chains = new Map<number, typeof history>();
  for (const row of history)
    chains.set(Number(row.transaction_id), [...(chains.get(Number(row.transaction_id)) ?? []), row]);
  const valuesOf = (prefix: string, row: Record<string, unknown>) =>
    `${row[`${prefix}affiliate_payout`]}/${row[`${prefix}merchant_revenue`]}/${Boolean(Number(row[`${prefix}approved`]))}`;
  for (const t of transactions) {
    const chain = chains.get(Number(t.id)) ?? [];
    for (let i = 1; i < chain.length; i++)
      if (valuesOf('before_', chain[i]) !== valuesOf('after_', chain[i - 1]))
        problem(`transaction ${t.id}: history row ${chain[i].id} does not start where ${chain[i - 1].id} ended`);
    if (chain.length > 0 && valuesOf('', t) !== valuesOf('after_', chain[chain.length - 1]))
      problem(`transaction ${t.id} does not hold its last history row's values`);
  }

  // Roll-up statistics against a recomputation from the transactions, in plain arithmetic.
  const watermark = Number((await knexHandle('processing_state').where({ id: 1 }).first()).rolled_up_through);
  const expected = new Map<string, bigint[]>();
  for (const t of transactions.filter((row) => Number(row.occurred_at) < watermark)) {
    const key = `${Math.floor(Number(t.occurred_at) / HOUR_MS) * HOUR_MS}/${t.campaign_id}/${t.affiliate_id}`;
    const approved = Boolean(Number(t.approved));
    const [payout, revenue] = [BigInt(t.affiliate_payout), BigInt(t.merchant_revenue)];
    const add = [1n, approved ? 1n : 0n, payout, revenue, approved ? payout : 0n, approved ? revenue : 0n];
    expected.set(
      key,
      (expected.get(key) ?? [0n, 0n, 0n, 0n, 0n, 0n]).map((sum, i) => sum + add[i]),
    );
  }
  const columns = [
    'transactions',
    'approved_transactions',
    'affiliate_payout',
    'merchant_revenue',
    'approved_affiliate_payout',
    'approved_merchant_revenue',
  ];
  for (const row of await knexHandle('hourly_statistics').where('hour_start', '<', watermark)) {
    const key = `${row.hour_start}/${row.campaign_id}/${row.affiliate_id}`;
    const stored = columns.map((column) => BigInt(row[column])).join();
    const sums = (expected.get(key) ?? []).join();
    expected.delete(key);
    if (stored !== sums) problem(`hourly statistics ${key}: stored ${stored}, transactions give ${sums}`);
  }
  for (const key of expected.keys()) problem(`hourly statistics ${key}: missing`);
  return problems;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const began = performance.now();
  const elapsed = (from: number) => `${((performance.now() - from) / 1000).toFixed(1)} s`;
  const schema = await createSchema();
  const receiver = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  let failed = true;
  try {
    const seeded = await seed(schema.db, `http://127.0.0.1:${(receiver.address() as net.AddressInfo).port}/pb`);
    server = await startServer(schema.url);
    process.stdout.write(
      `soak: ${clients} clients, ${transactionCount} transactions, ${seconds} s against ${server.baseUrl} (MariaDB; ready after ${elapsed(began)})\n`,
    );
    const sent = await runLoad(server.baseUrl, seeded);
    const exitCode = await server.stop();
    const checking = performance.now();
    const problems = await check(schema.db.knex, sent);
    if (exitCode !== 0) problems.push(`the server exited with ${exitCode} after SIGTERM:\n${server.output()}`);

    const counts = new Map<string, number>();
    for (const edit of sent)
      counts.set(`${edit.kind}: ${edit.answer}`, (counts.get(`${edit.kind}: ${edit.answer}`) ?? 0) + 1);
    const latencies = sent.map((edit) => edit.ms).sort((a, b) => a - b);
    const latencyOf = (kind: Kind) => {
      const sorted = sent
        .filter((edit) => edit.kind === kind)
        .map((edit) => edit.ms)
        .sort((a, b) => a - b);
      return `${kind} p50 ${percentile(sorted, 50).toFixed(0)} ms, p99 ${percentile(sorted, 99).toFixed(0)} ms`;
    };
    const history = Number((await schema.db.knex('modifications').count({ n: '*' }).first())?.n ?? 0);
    const deliveries: Array<{ status: string; n: number | string }> = await schema.db
      .knex('postback_deliveries')
      .select('status')
      .count({ n: '*' })
      .groupBy('status');
    process.stdout.write(
      [
        `requests: ${sent.length} (${(sent.length / seconds).toFixed(0)}/s), latency p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${percentile(latencies, 100).toFixed(1)} ms`,
        `  (${(['valid', 'wrong_password', 'unknown_transaction'] as const).map(latencyOf).join('; ')})`,
        ...[...counts].sort().map(([answer, n]) => `  ${n}\t${answer}`),
        `history rows: ${history}; postback deliveries: ${deliveries.map((d) => `${d.n} ${d.status}`).join(', ') || 'none'}; checked in ${elapsed(checking)}, ${elapsed(began)} in all`,
        problems.length === 0
          ? 'checks: every success is in the history exactly once, no failure left a trace, transactions match their history, statistics match a recomputation — OK'
          : `MISMATCHES (${problems.length}${problems.length >= 50 ? '+' : ''}):\n  ${problems.join('\n  ')}`,
      ].join('\n') + '\n',
    );
    failed = problems.length > 0;
  } finally {
    await server?.stop();
    receiver.close();
    await schema.drop();
  }
  process.exit(failed ? 1 : 0);
}

main().catch((error) => {
  process.stderr.write(`soak failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
