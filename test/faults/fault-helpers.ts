import type { Knex } from 'knex';
import { createServices, Services } from '../../src/composition';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import type { Database } from '../../src/store/database';
import { createTestDatabase, type TestDatabase } from '../support/databases';
import { rollUpToNow } from '../support/factories';
import { ensureBuilt, type SpawnedServer } from '../support/spawn-server';
import type { LinkTrustAnswer } from '../support/linktrust-xml';

const HOUR_MS = 3_600_000;

/** Polls until `check` returns a value (bounded): a wait for something to happen, not a speed assertion. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, limitMs = 20_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    let value: T | undefined;
    try {
      value = await check();
    } catch {
      value = undefined;
    }
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${limitMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Services over a database handle, without an HTTP server: for factories and direct reads beside a spawned server. */
export function servicesOver(db: Database): Services & { close(): Promise<void> } {
  const services = createServices(loadConfig({ LOG_LEVEL: 'silent', BCRYPT_COST: '4' }), db, createLogger('silent'));
  return Object.assign(services, {
    close: () => services.lifecycle.stop({ keepDatabase: true }),
  });
}

/** The word-for-word temporary failure of a transient database problem. */
export function temporaryFailure(
  what: 'database unavailable' | 'database deadlock' | 'database busy',
): LinkTrustAnswer['error'] {
  return { type: 'temporary', message: `Temporary failure: ${what} LinkTrust API was unable to complete the request` };
}

/**
 * Rolls up again from the hour of `occurredAt`: factories create transactions in hours an earlier test
 * may already have rolled up, and those hours' statistics would not count them. Moving the watermark
 * back makes the roll-up recompute those hours from the transactions, so statistics start out right.
 */
export async function rollUpIncluding(services: Services, occurredAt: number): Promise<void> {
  await services.stores.processingState.update(services.stores.units.alone, {
    rolledUpThrough: Math.floor(occurredAt / HOUR_MS) * HOUR_MS,
  });
  await rollUpToNow(services);
}

/** Every row the core may write for one change, read straight from the tables (no stores, no caches). */
export interface WrittenState {
  transaction: Record<string, unknown>;
  history: Array<Record<string, unknown>>;
  hourlyStatistics: Array<Record<string, unknown>>;
  postbackDeliveries: Array<Record<string, unknown>>;
}

/** Normalises a row so that both engines' spellings (bigint strings, 0/1 booleans) compare equal. */
function plain(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(row).map(([key, value]) => [
      key,
      typeof value === 'bigint' || typeof value === 'number' ? String(value) : value,
    ]),
  );
}

/** Reads the transaction, its history, all hourly statistics and all postback deliveries. */
export async function readWrittenState(knex: Knex, transactionId: number): Promise<WrittenState> {
  const transaction = await knex('transactions').where({ id: transactionId }).first();
  const history = await knex('modifications').where({ transaction_id: transactionId }).orderBy('id');
  const hourlyStatistics = await knex('hourly_statistics').orderBy(['hour_start', 'campaign_id', 'affiliate_id']);
  const postbackDeliveries = await knex('postback_deliveries').orderBy('id');
  return {
    transaction: plain(transaction),
    history: history.map(plain),
    hourlyStatistics: hourlyStatistics.map(plain),
    postbackDeliveries: postbackDeliveries.map(plain),
  };
}

/** Edit parameters for a transaction: new values, a reason and the postback flag. */
export function editParameters(
  password: string,
  transactionId: number,
  reason: string,
  values: { AP: string; MP: string; A: 'yes' | 'no' },
) {
  return {
    Password: password,
    Transactionid: String(transactionId),
    ...values,
    REASON: reason,
    executeaffiliatepixel: 'yes',
  };
}

const TOTALS = [
  'transactions',
  'approved_transactions',
  'affiliate_payout',
  'merchant_revenue',
  'approved_affiliate_payout',
  'approved_merchant_revenue',
] as const;

/**
 * Compares every rolled-up hourly statistics row with a recomputation from the transactions, done here
 * in plain arithmetic (not with the roll-up's SQL, so the two cannot share a mistake). Returns one line
 * per difference; [] when they agree.
 */
export async function statisticsMismatches(knex: Knex): Promise<string[]> {
  const state = await knex('processing_state').where({ id: 1 }).first();
  const watermark = Number(state.rolled_up_through);
  const expected = new Map<string, bigint[]>();
  for (const t of await knex('transactions').where('occurred_at', '<', watermark)) {
    const key = `${Math.floor(Number(t.occurred_at) / HOUR_MS) * HOUR_MS}/${t.campaign_id}/${t.affiliate_id}`;
    const approved = Boolean(t.approved);
    const payout = BigInt(t.affiliate_payout);
    const revenue = BigInt(t.merchant_revenue);
    const add = [1n, approved ? 1n : 0n, payout, revenue, approved ? payout : 0n, approved ? revenue : 0n];
    const sums = expected.get(key) ?? [0n, 0n, 0n, 0n, 0n, 0n];
    expected.set(
      key,
      sums.map((sum, index) => sum + add[index]),
    );
  }
  const problems: string[] = [];
  for (const row of await knex('hourly_statistics').where('hour_start', '<', watermark)) {
    const key = `${row.hour_start}/${row.campaign_id}/${row.affiliate_id}`;
    const stored = TOTALS.map((column) => BigInt(row[column]));
    const sums = expected.get(key) ?? [0n, 0n, 0n, 0n, 0n, 0n];
    expected.delete(key);
    if (stored.join() !== sums.join())
      problems.push(`${key}: stored ${stored.join()} but transactions give ${sums.join()}`);
  }
  for (const [key, sums] of expected) problems.push(`${key}: no statistics row for transactions giving ${sums.join()}`);
  return problems;
}

/**
 * The set-up of a kill -9 test file: a private database of `engine` (the production build made first) and
 * the list of servers a test spawns, all killed and the database dropped after the file's tests. Read the
 * returned object inside tests.
 */
export function useSpawnedServers(engine: 'sqlite' | 'mysql'): { database: TestDatabase; servers: SpawnedServer[] } {
  const context = { servers: [] as SpawnedServer[] } as { database: TestDatabase; servers: SpawnedServer[] };
  beforeAll(async () => {
    await ensureBuilt();
    context.database = await createTestDatabase(engine);
  }, 300_000);
  afterAll(async () => {
    for (const server of context.servers) server.kill('SIGKILL');
    await Promise.all(context.servers.map((server) => server.exited));
    await context.database?.drop();
  });
  return context;
}
