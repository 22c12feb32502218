import crypto from 'node:crypto';
import { testEngines } from '../support/databases';
import { buildAffiliate, buildCampaign, buildTransaction, rollUpToNow, twoDaysAgo } from '../support/factories';
import { editByGet, parseLinkTrustXml } from '../support/linktrust-xml';
import { useTestServer } from '../support/test-server';
import { statisticsMismatches } from '../faults/fault-helpers';
import { seededRandom } from '../support/seeded-random';

// Keyed requests (Idempotency-Key) are coalesced like unkeyed ones once their password passed lately: a unit
// of work reads its keys' remembered answers in one statement and stores the new ones with its changes.
// Fired together at the same transactions, in seeded random order, every answer must be what the request
// would get alone — twins replay the same bytes, the clash's loser is refused, each key applies once — and
// the histories must chain as if the changes ran one by one in the order they committed.

const runId = crypto.randomBytes(3).toString('hex');

/** A GET of /transaction.edit with its answer and the id the server gave it (X-Request-Id). */
async function send(baseUrl: string, params: Record<string, string>) {
  const response = await fetch(`${baseUrl}/transaction.edit?${new URLSearchParams(params)}`);
  const body = await response.text();
  return { body, answer: parseLinkTrustXml(body), requestId: response.headers.get('x-request-id') as string };
}

type Sent = {
  transactionId: number;
  key: string | null;
  /** Which variant of a key's parameters (two variants: a conflict). */
  variant: number;
  params: Record<string, string>;
};

// A database per seed: the statistics check needs each round's transactions rolled up after they exist.
const rounds = testEngines().flatMap((engine) => [11, 23, 37].map((seed) => [engine, seed] as const));

describe.each(rounds)('keyed and coalesced edits together on %s (seed %d)', (engine, seed) => {
  const context = useTestServer(engine);
  const services = () => context.server.services;

  it('answers each as alone and chains every history', async () => {
    const rng = seededRandom(seed);
    const affiliate = await buildAffiliate(services());
    const campaign = await buildCampaign(services());
    const transactions: Array<Awaited<ReturnType<typeof buildTransaction>>> = [];
    for (let i = 0; i < 5; i += 1)
      transactions.push(await buildTransaction(services(), campaign, affiliate, { occurredAt: twoDaysAgo() }));
    await rollUpToNow(services());
    const password = campaign.password as string;
    // One edit first: the password passes a compare, so the unkeyed edits may take the coalescing path.
    expect(
      (
        await editByGet(context.server.baseUrl, {
          Password: password,
          TransactionID: String(transactions[0].id),
          A: 'Yes',
        })
      ).answer.succeeded,
    ).toBe('True');

    const sent: Sent[] = [];
    const request = (transactionId: number, key: string | null, variant: number, ap: string) => {
      const params: Record<string, string> = { Password: password, TransactionID: String(transactionId), AP: ap };
      if (key) params.IdempotencyKey = key;
      sent.push({ transactionId, key, variant, params });
    };
    const pick = () => transactions[rng.below(transactions.length)].id;
    const amount = () => `${1 + rng.below(90)}.${String(rng.below(100)).padStart(2, '0')}`;
    for (let i = 0; i < 30; i += 1) request(pick(), null, 0, amount());
    for (let k = 0; k < 4; k += 1) {
      const [key, id, ap] = [`k-${runId}-${seed}-${k}`, pick(), amount()];
      for (let twin = 0; twin < 3; twin += 1) request(id, key, 0, ap);
    }
    const clash = `clash-${runId}-${seed}`;
    const clashId = pick();
    request(clashId, clash, 0, '11.11');
    request(clashId, clash, 1, '22.22');
    // Shuffled, then all at once.
    for (let i = sent.length - 1; i > 0; i -= 1) {
      const j = rng.below(i + 1);
      [sent[i], sent[j]] = [sent[j], sent[i]];
    }
    const before = services().modifications.coalescing();
    // The units' reads of remembered answers (one statement per unit holding keyed requests).
    const answerReads: string[] = [];
    const listener = (query: { sql: string }) => {
      if (query.sql.startsWith('select campaign_id, key_hash')) answerReads.push(query.sql);
    };
    services().db.knex.on('query', listener);
    const answers = await Promise.all(sent.map((s) => send(context.server.baseUrl, s.params)));
    services().db.knex.off('query', listener);
    const after = services().modifications.coalescing();

    const rows = new Map<number, Awaited<ReturnType<typeof history>>>();
    const history = (id: number) => services().stores.modifications.listForTransaction(id);
    for (const t of transactions) rows.set(t.id, await history(t.id));
    const written = new Map<string, number>();
    for (const list of rows.values())
      for (const row of list) written.set(row.requestId ?? '', (written.get(row.requestId ?? '') ?? 0) + 1);

    sent.forEach((s, i) => {
      const { answer } = answers[i];
      if (s.key === null) {
        expect([answers[i].requestId, answer.succeeded, written.get(answers[i].requestId)]).toEqual([
          answers[i].requestId,
          'True',
          1,
        ]);
      }
    });
    // Each key: one change in the history, and every twin answered with the same bytes, the stored ones.
    const storedAnswer = async (key: string) =>
      (
        await services()
          .db.knex('idempotency_keys')
          .where({ campaign_id: campaign.id, key_hash: crypto.createHash('sha256').update(key).digest('hex') })
          .first()
      ).response;
    for (const key of new Set(sent.filter((s) => s.key && s.key !== clash).map((s) => s.key as string))) {
      const twins = sent.map((s, i) => ({ s, i })).filter(({ s }) => s.key === key);
      expect(new Set(twins.map(({ i }) => answers[i].body)).size).toBe(1);
      expect(answers[twins[0].i].answer.succeeded).toBe('True');
      expect(answers[twins[0].i].body).toBe(await storedAnswer(key));
      expect(twins.reduce((sum, { i }) => sum + (written.get(answers[i].requestId) ?? 0), 0)).toBe(1);
    }
    // The clash: one of the two applied; the other is told its key is taken by other parameters.
    const clashes = sent.map((s, i) => ({ s, i })).filter(({ s }) => s.key === clash);
    const applied = clashes.filter(({ i }) => written.get(answers[i].requestId) === 1);
    expect(applied).toHaveLength(1);
    const other = clashes.find(({ i }) => i !== applied[0].i)!;
    expect(answers[other.i].answer.error?.message).toBe(
      'Permanent failure: Invalid parameter value for IdempotencyKey',
    );
    expect(answers[applied[0].i].body).toBe(await storedAnswer(clash));

    // Every history chains from the transaction's first values to its current ones, in commit order.
    for (const t of transactions) {
      const list = rows.get(t.id)!;
      let values = { affiliatePayout: t.affiliatePayout, merchantRevenue: t.merchantRevenue, approved: t.approved };
      for (const row of list) {
        expect(row.before).toEqual(values);
        values = row.after;
      }
      const now = await services().stores.transactions.getById(t.id);
      expect({
        affiliatePayout: now!.affiliatePayout,
        merchantRevenue: now!.merchantRevenue,
        approved: now!.approved,
      }).toEqual(values);
      expect(now!.modificationCount).toBe(list.length);
    }
    expect(await statisticsMismatches(services().db.knex)).toEqual([]);
    // Every edit, keyed or not, went through the coalescing path.
    expect([after.changes - before.changes, after.keyed - before.keyed]).toEqual([44, 14]);
    expect(answerReads.length).toBeGreaterThan(0);
    // On MariaDB units held several, keyed ones too: fewer reads of remembered answers than keyed requests
    // means some unit read several keys at once (how many shared a unit depends on timing). SQLite's units
    // run without yielding, and these requests, sent from this process, reach it one turn of the event loop
    // apart, so each has a unit of its own here (test/modification/keyed-coalescing.test.ts shares units on
    // both engines).
    if (engine === 'mysql') {
      expect(after.units - before.units).toBeLessThan(44);
      expect(answerReads.length).toBeLessThan(14);
    }
  });
});
