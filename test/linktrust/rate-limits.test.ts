import bcrypt from 'bcrypt';
import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';
import { buildScene } from '../support/factories';
import { editByGet, parseLinkTrustXml } from '../support/linktrust-xml';
import { adminRequest, startTestServer, TestServer } from '../support/test-server';

const RATE_LIMITED = 'Temporary failure: rate limited LinkTrust API was unable to complete the request';
const SERVER_BUSY = 'Temporary failure: server busy LinkTrust API was unable to complete the request';
const UNAUTHORIZED = 'Permanent failure: Invalid authentication credentials';

/** An edit from `ip` (through the loopback proxy), with the answer and its Retry-After. */
async function editFrom(baseUrl: string, params: Record<string, string>, ip: string) {
  const response = await fetch(`${baseUrl}/transaction.edit?${new URLSearchParams(params)}`, {
    headers: { 'x-forwarded-for': ip },
  });
  const answer = parseLinkTrustXml(await response.text());
  return {
    answer,
    message: answer.error?.message,
    retryAfter: response.headers.get('retry-after') === null ? null : Number(response.headers.get('retry-after')),
  };
}

describe.each(testEngines())('failed-attempt limits on %s', (engine) => {
  let database: TestDatabase;
  let server: TestServer;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
    server = await startTestServer(database.db, {
      TRUST_PROXY: 'loopback',
      RATE_LIMIT_IP_FAILURES: '3',
      RATE_LIMIT_CAMPAIGN_FAILURES: '5',
      RATE_LIMIT_WINDOW_SECONDS: '600',
      // One check a minute for a braked campaign: no test below can outrun its interval.
      RATE_LIMIT_BRAKED_CHECKS_PER_MINUTE: '1',
    });
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  const from = (ip: string) => ({ 'x-forwarded-for': ip });

  it('refuses a client IP past its limit, even with the right password, with Retry-After', async () => {
    const { campaign, transaction } = await buildScene(server.services);
    const good = { Password: campaign.password as string, TransactionID: String(transaction.id), AP: '1.00' };
    for (let i = 0; i < 2; i++) {
      const { answer } = await editByGet(server.baseUrl, { ...good, Password: 'wrong' }, from('198.51.100.1'));
      expect(answer.error?.message).toBe('Permanent failure: Invalid authentication credentials');
    }
    // Unknown transactions count too.
    const unknown = await editByGet(server.baseUrl, { ...good, TransactionID: '987654321' }, from('198.51.100.1'));
    expect(unknown.answer.error?.message).toBe('Permanent failure: Invalid transaction specified');
    const response = await fetch(`${server.baseUrl}/transaction.edit?${new URLSearchParams(good)}`, {
      headers: from('198.51.100.1'),
    });
    const body = await response.text();
    expect(body).toContain(`<Type>temporary</Type>\n<Message>${RATE_LIMITED}</Message>`);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(590);
    // Nothing was applied; another client is unaffected.
    expect(await server.services.stores.modifications.listForTransaction(transaction.id)).toHaveLength(0);
    const other = await editByGet(server.baseUrl, good, from('198.51.100.2'));
    expect(other.answer.succeeded).toBe('True');
  });

  it('counts a client by its address, whatever port or spelling its proxy writes', async () => {
    const recorded: Array<string | null> = [];
    for (const [spellings, other] of [
      [['198.51.100.31:40001', '198.51.100.31:40002', '::ffff:c633:641f'], '198.51.100.32:40001'],
      [['[2001:db8::31]:443', '2001:db8::31', '[2001:DB8:0::31]'], '[2001:db8:0:1::32]:443'],
    ] as Array<[string[], string]>) {
      // A campaign per client, so that the campaign's own limit stays out of the way.
      const { campaign, transaction } = await buildScene(server.services);
      const good = { Password: campaign.password as string, TransactionID: String(transaction.id), AP: '1.50' };
      for (const spelling of spellings) {
        const { answer } = await editByGet(server.baseUrl, { ...good, Password: 'wrong' }, from(spelling));
        expect(answer.error?.message).toBe('Permanent failure: Invalid authentication credentials');
      }
      // One bucket for the three spellings: the right password is now refused from any of them…
      const limited = await editByGet(server.baseUrl, good, from(spellings[0].replace('40001', '50000')));
      expect(limited.answer.error?.message).toBe(RATE_LIMITED);
      // …and another client behind the same proxy (another /64) is not in it.
      expect((await editByGet(server.baseUrl, good, from(other))).answer.succeeded).toBe('True');
      recorded.push(
        ...(await server.services.stores.modifications.listForTransaction(transaction.id)).map((row) => row.clientIp),
      );
    }
    expect(recorded).toEqual(['198.51.100.32', '2001:db8:0:1::32']);
  });

  it('counts an IPv6 client by its /64', async () => {
    const { campaign, transaction } = await buildScene(server.services);
    const wrong = { Password: 'wrong', TransactionID: String(transaction.id) };
    for (let i = 1; i <= 3; i++)
      expect((await editFrom(server.baseUrl, wrong, `2001:db8:77:1::${i}`)).message).toBe(UNAUTHORIZED);
    const right = { Password: campaign.password as string, TransactionID: String(transaction.id), AP: '1.00' };
    expect((await editFrom(server.baseUrl, right, '2001:db8:77:1:abcd::1')).message).toBe(RATE_LIMITED);
    expect((await editFrom(server.baseUrl, right, '2001:db8:77:2::1')).answer.succeeded).toBe('True');
  });

  it('brakes a campaign under a distributed flood: a stranger’s credential is checked once per interval, white-listed IPs pass', async () => {
    const { campaign, transaction } = await buildScene(server.services);
    const params = { Password: 'wrong', TransactionID: String(transaction.id), AP: '2.00' };
    for (let i = 0; i < 5; i++) await editByGet(server.baseUrl, params, from(`203.0.113.${10 + i}`));
    // Braked: this interval's check goes to the next guess, and every other credential waits for the next.
    expect((await editFrom(server.baseUrl, params, '203.0.113.98')).message).toBe(UNAUTHORIZED);
    const right = { ...params, Password: campaign.password as string };
    const fresh = await editFrom(server.baseUrl, right, '203.0.113.99');
    expect(fresh.message).toBe(RATE_LIMITED);
    expect(fresh.retryAfter).toBeGreaterThan(0);
    expect(fresh.retryAfter).toBeLessThanOrEqual(60);
    expect(
      (await adminRequest(server.baseUrl, 'POST', '/whitelist', { address: '192.0.2.0/24', campaignId: campaign.id }))
        .status,
    ).toBe(201);
    const merchant = await editByGet(server.baseUrl, right, from('192.0.2.7'));
    expect(merchant.answer.succeeded).toBe('True');
  });
});

describe.each(testEngines())('a campaign under a flood from many addresses on %s', (engine) => {
  let database: TestDatabase;
  let server: TestServer;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
    // The defaults' limits (10 per address, 100 per campaign); one check a minute under the campaign's brake.
    server = await startTestServer(database.db, {
      TRUST_PROXY: 'loopback',
      RATE_LIMIT_IP_FAILURES: '10',
      RATE_LIMIT_CAMPAIGN_FAILURES: '100',
      RATE_LIMIT_BRAKED_CHECKS_PER_MINUTE: '1',
      RATE_LIMIT_DELAY_MS: '0',
      // The guessers' compares in the server, unpaced: what is braked here is the campaign, not their CPU
      // (on a busy machine, a nice-19 process at a quarter of a core would only make the test slow).
      BCRYPT_LOW_PRIORITY: 'false',
      BCRYPT_SUSPECT_SHARE: '100',
    });
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  /** `addresses` × `attempts` wrong passwords, the addresses at once; returns every answer's message. */
  const flood = async (transactionId: number, addresses: number, attempts: number, subnet: number) =>
    (
      await Promise.all(
        Array.from({ length: addresses }, async (_, a) => {
          const messages: Array<string | undefined> = [];
          for (let i = 0; i < attempts; i++)
            messages.push(
              (
                await editFrom(
                  server.baseUrl,
                  { Password: `guess-${a}-${i}`, TransactionID: String(transactionId) },
                  `198.18.${subnet}.${a + 1}`,
                )
              ).message,
            );
          return messages;
        }),
      )
    ).flat();

  it('lets the merchant’s recently verified password through a campaign braked by 11 addresses × 10 wrong passwords, from its address or a new one', async () => {
    const { campaign, transaction } = await buildScene(server.services);
    const edit = (ap: string) => ({
      Password: campaign.password as string,
      TransactionID: String(transaction.id),
      AP: ap,
    });
    expect((await editFrom(server.baseUrl, edit('1.00'), '192.0.2.10')).answer.succeeded).toBe('True');
    const answers = await flood(transaction.id, 11, 10, 1);
    expect(answers.filter((m) => m === UNAUTHORIZED).length).toBeGreaterThanOrEqual(100);
    expect(answers.every((m) => m === UNAUTHORIZED || m === RATE_LIMITED)).toBe(true);
    // The campaign is braked: of two strangers' guesses, one at most is checked in the interval.
    const guesses = [
      await editFrom(server.baseUrl, { Password: 'guess-a', TransactionID: String(transaction.id) }, '198.51.100.201'),
      await editFrom(server.baseUrl, { Password: 'guess-b', TransactionID: String(transaction.id) }, '198.51.100.202'),
    ];
    expect(guesses[1].message).toBe(RATE_LIMITED);
    const merchant = await editFrom(server.baseUrl, edit('2.00'), '192.0.2.10');
    expect([merchant.answer.succeeded, merchant.message]).toEqual(['True', undefined]);
    const merchantElsewhere = await editFrom(server.baseUrl, edit('3.00'), '192.0.2.11');
    expect(merchantElsewhere.answer.succeeded).toBe('True');
    // A guesser is still braked: its own address's limit, or the campaign's interval.
    expect(
      (await editFrom(server.baseUrl, { Password: 'guess', TransactionID: String(transaction.id) }, '198.18.1.1'))
        .message,
    ).toBe(RATE_LIMITED);
    expect(await server.services.stores.modifications.listForTransaction(transaction.id)).toHaveLength(3);
  });

  it('counts a credential refused for want of a turn against its client: a braked campaign’s cache cannot be probed for free', async () => {
    const { campaign, transaction } = await buildScene(server.services);
    const right = { Password: campaign.password as string, TransactionID: String(transaction.id), AP: '6.00' };
    expect((await editFrom(server.baseUrl, right, '192.0.2.30')).answer.succeeded).toBe('True'); // cached now
    expect((await flood(transaction.id, 10, 10, 4)).every((m) => m === UNAUTHORIZED)).toBe(true);
    // A prober's guesses under the brake: at most one is checked; every one counts against its address…
    const prober = '198.51.100.230';
    for (let i = 0; i < 10; i++) await editFrom(server.baseUrl, { ...right, Password: `probe-${i}` }, prober);
    // …so that, its limit reached, not even the cached password is looked at for it any more.
    const probe = await editFrom(server.baseUrl, right, prober);
    expect(probe.message).toBe(RATE_LIMITED);
    expect(probe.retryAfter).toBeGreaterThan(60);
    expect((await editFrom(server.baseUrl, right, '192.0.2.31')).answer.succeeded).toBe('True');
  });

  it('checks a first-time right password from a stranger under the brake, and answers the next credential with a short Retry-After', async () => {
    const { campaign, transaction } = await buildScene(server.services);
    // Exactly 100 failures: braked, and this interval's check still free.
    expect((await flood(transaction.id, 10, 10, 2)).every((m) => m === UNAUTHORIZED)).toBe(true);
    const right = { Password: campaign.password as string, TransactionID: String(transaction.id), AP: '4.00' };
    expect((await editFrom(server.baseUrl, right, '192.0.2.20')).answer.succeeded).toBe('True');
    const next = await editFrom(server.baseUrl, { ...right, Password: 'guess' }, '192.0.2.21');
    expect(next.message).toBe(RATE_LIMITED);
    expect(next.retryAfter).toBeGreaterThan(0);
    expect(next.retryAfter).toBeLessThanOrEqual(60);
    // A client that passed a check lately is not held to the campaign's interval, even with a password the
    // cache does not know yet (rotated here): 192.0.2.20 just succeeded.
    expect(
      (await adminRequest(server.baseUrl, 'PATCH', `/campaigns/${campaign.id}`, { password: 'rotated-password' }))
        .status,
    ).toBe(200);
    expect(
      (await editFrom(server.baseUrl, { ...right, Password: 'rotated-password' }, '192.0.2.20')).answer.succeeded,
    ).toBe('True');
    // …which the cache knows now: it passes from a stranger's address too.
    expect(
      (await editFrom(server.baseUrl, { ...right, Password: 'rotated-password', AP: '5.00' }, '192.0.2.22')).answer
        .succeeded,
    ).toBe('True');
  });

  it('holds a client known only from another campaign to the braked campaign’s turns', async () => {
    // A guesser with a campaign of its own (its password and a transaction) succeeds there first…
    const own = await buildScene(server.services);
    const victim = await buildScene(server.services);
    expect((await flood(victim.transaction.id, 10, 10, 5)).every((m) => m === UNAUTHORIZED)).toBe(true);
    const guesser = '198.51.100.240';
    const ownEdit = {
      Password: own.campaign.password as string,
      TransactionID: String(own.transaction.id),
      AP: '1.00',
    };
    expect((await editFrom(server.baseUrl, ownEdit, guesser)).answer.succeeded).toBe('True');
    // …which must not buy its guesses on the braked campaign a check each: one turn in the interval at most.
    const guesses: Array<string | undefined> = [];
    for (let i = 0; i < 3; i++)
      guesses.push(
        (
          await editFrom(
            server.baseUrl,
            { Password: `known-guess-${i}`, TransactionID: String(victim.transaction.id) },
            guesser,
          )
        ).message,
      );
    expect(guesses.filter((m) => m === UNAUTHORIZED).length).toBeLessThanOrEqual(1);
    expect(guesses.filter((m) => m === RATE_LIMITED).length).toBeGreaterThanOrEqual(2);
  });
});

describe('first-time checks during a flood from many addresses (SQLite)', () => {
  it('serves a known merchant’s first check ahead of the strangers that filled the compare queue', async () => {
    const database = await createTestDatabase('sqlite');
    // One compare at a time, two waiting per priority: a handful of strangers fills their queue.
    const server = await startTestServer(database.db, {
      TRUST_PROXY: 'loopback',
      BCRYPT_CONCURRENCY: '1',
      BCRYPT_QUEUE: '2',
      RATE_LIMIT_DELAY_MS: '0',
    });
    try {
      const other = await buildScene(server.services);
      const { campaign, transaction } = await buildScene(server.services);
      // A slow hash (cost 13: ≈ 0.5–1 s a compare) on the flooded campaign, so that its queue surely stays
      // full while the merchant's request arrives.
      // The merchant passed a check of this campaign lately; then the hash changed (a new cost), so its next
      // check is an uncached compare.
      const merchantIp = '192.0.2.60';
      expect(
        (
          await editFrom(
            server.baseUrl,
            { Password: campaign.password as string, TransactionID: String(transaction.id), AP: '1.00' },
            merchantIp,
          )
        ).answer.succeeded,
      ).toBe('True');
      const bcrypt = await import('bcrypt');
      await database.db
        .knex('campaigns')
        .where({ id: campaign.id })
        .update({ password_hash: await bcrypt.hash(campaign.password as string, 13) });
      // A client known only on another campaign (its guesser's own) gets no place ahead of the strangers.
      const otherIp = '192.0.2.61';
      expect(
        (
          await editFrom(
            server.baseUrl,
            { Password: other.campaign.password as string, TransactionID: String(other.transaction.id), AP: '1.00' },
            otherIp,
          )
        ).answer.succeeded,
      ).toBe('True');
      // Eight addresses, one wrong password each: one compare runs, two wait, five are refused at once.
      const strangers = Array.from({ length: 8 }, (_, i) =>
        editFrom(
          server.baseUrl,
          { Password: `guess-${i}`, TransactionID: String(transaction.id) },
          `198.18.3.${i + 1}`,
        ),
      );
      let busy = 0;
      strangers.forEach((answer) => answer.then(({ message }) => (busy += message === SERVER_BUSY ? 1 : 0)));
      for (let turn = 0; busy < 5; turn++) {
        if (turn > 5000) throw new Error('the strangers never filled the queue');
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      expect(
        (await editFrom(server.baseUrl, { Password: 'guess-bought', TransactionID: String(transaction.id) }, otherIp))
          .message,
      ).toBe(SERVER_BUSY);
      // The merchant's first check against the new hash: queued ahead of them, not refused.
      const merchant = await editFrom(
        server.baseUrl,
        { Password: campaign.password as string, TransactionID: String(transaction.id), AP: '2.00' },
        merchantIp,
      );
      expect([merchant.answer.succeeded, merchant.message]).toEqual(['True', undefined]);
      const messages = (await Promise.all(strangers)).map((answer) => answer.message);
      expect(messages.filter((m) => m === SERVER_BUSY)).toHaveLength(5);
      expect(messages.filter((m) => m === UNAUTHORIZED)).toHaveLength(3);
    } finally {
      await server.close();
      await database.drop();
    }
  });
});

describe('uncached password checks per client (SQLite)', () => {
  let database: TestDatabase;
  let server: TestServer;
  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
    server = await startTestServer(database.db, { TRUST_PROXY: 'loopback', BCRYPT_PER_CLIENT: '2', BCRYPT_COST: '10' });
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  it('answers a guessing client past its share of concurrent compares with rate limited, while others pass', async () => {
    const { campaign, transaction } = await buildScene(server.services);
    const guess = (i: number, ip: string) =>
      editByGet(
        server.baseUrl,
        { Password: `guess-${i}`, TransactionID: String(transaction.id) },
        { 'x-forwarded-for': ip },
      );
    // The merchant's edit goes out in the middle of the flood, and must not wait behind it.
    const [flood, merchantDuring] = await Promise.all([
      Promise.all(Array.from({ length: 8 }, (_, i) => guess(i, '198.51.100.77'))),
      editByGet(
        server.baseUrl,
        { Password: campaign.password as string, TransactionID: String(transaction.id), MP: '3.00' },
        { 'x-forwarded-for': '192.0.2.51' },
      ),
    ]);
    expect(merchantDuring.answer.succeeded).toBe('True');
    const messages = flood.map((f) => f.answer.error?.message);
    const refused = messages.filter((m) => m === 'Permanent failure: Invalid authentication credentials').length;
    const limited = messages.filter((m) => m === RATE_LIMITED).length;
    // Every guess is refused one way or the other; how many overlapped depends on timing, so the cap
    // itself is proven deterministically in test/auth/password-verifier.test.ts.
    expect(refused + limited).toBe(8);
    expect(refused).toBeGreaterThanOrEqual(2);
    const merchant = await editByGet(
      server.baseUrl,
      { Password: campaign.password as string, TransactionID: String(transaction.id), AP: '1.00' },
      { 'x-forwarded-for': '192.0.2.50' },
    );
    expect(merchant.answer.succeeded).toBe('True');
  });

  it('has every first check answered, past its share of concurrent compares too: they wait their turn, none rate limited', async () => {
    // A CRM's first edits after a restart: six campaigns, three edits each, all at once from one address.
    const scenes = [];
    for (let i = 0; i < 6; i++) scenes.push(await buildScene(server.services));
    // Hashes at cost 10, so that the compares overlap (the factory's cost 4 takes about a millisecond).
    for (const { campaign } of scenes)
      await server.services.db
        .knex('campaigns')
        .where({ id: campaign.id })
        .update({ password_hash: await bcrypt.hash(campaign.password as string, 10) });
    const edits = scenes.flatMap(({ campaign, transaction }) =>
      [1, 2, 3].map((n) =>
        editByGet(
          server.baseUrl,
          { Password: campaign.password as string, TransactionID: String(transaction.id), AP: `${n}.00` },
          { 'x-forwarded-for': '192.0.2.70' },
        ),
      ),
    );
    const answers = await Promise.all(edits);
    expect(answers.map(({ answer }) => answer.error?.message ?? answer.succeeded)).toEqual(edits.map(() => 'True'));
    for (const { transaction } of scenes)
      expect(await server.services.stores.modifications.listForTransaction(transaction.id)).toHaveLength(3);
  });
});

describe('rate-limited answers are held back (SQLite)', () => {
  it('answers a client past its limit only after RATE_LIMIT_DELAY_MS', async () => {
    const { createTestDatabase } = await import('../support/databases');
    const database = await createTestDatabase('sqlite');
    const server = await startTestServer(database.db, {
      TRUST_PROXY: 'loopback',
      RATE_LIMIT_IP_FAILURES: '1',
      RATE_LIMIT_DELAY_MS: '400',
    });
    try {
      const { transaction } = await buildScene(server.services);
      const guess = { Password: 'wrong', TransactionID: String(transaction.id) };
      const from = { 'x-forwarded-for': '198.51.100.88' };
      const first = await editByGet(server.baseUrl, guess, from);
      expect(first.answer.error?.message).toBe('Permanent failure: Invalid authentication credentials');
      const started = Date.now();
      const limited = await editByGet(server.baseUrl, guess, from);
      // A lower bound only: a timer never fires before its delay, so this cannot fail on a slow machine.
      expect(Date.now() - started).toBeGreaterThanOrEqual(395);
      expect(limited.answer.error?.message).toBe(RATE_LIMITED);
    } finally {
      await server.close();
      await database.drop();
    }
  });
});

describe('a failing client’s next compares run in the low-priority process (SQLite)', () => {
  it('answers them as before, from a child at nice 19, while other clients’ first checks stay in the server', async () => {
    const { createTestDatabase } = await import('../support/databases');
    const fs = await import('node:fs');
    const database = await createTestDatabase('sqlite');
    const server = await startTestServer(database.db, { TRUST_PROXY: 'loopback', RATE_LIMIT_IP_FAILURES: '10' });
    try {
      const { campaign, transaction } = await buildScene(server.services);
      const { passwords } = server.services;
      const guess = (password: string, ip: string) =>
        editByGet(
          server.baseUrl,
          { Password: password, TransactionID: String(transaction.id), AP: '1.00' },
          { 'x-forwarded-for': ip },
        );
      // The first failure is compared in the server: no child yet.
      expect((await guess('wrong-1', '198.51.100.90')).answer.error?.message).toBe(
        'Permanent failure: Invalid authentication credentials',
      );
      expect(passwords.lowPriorityPid).toBeUndefined();
      // Another client's first check, right password: in the server too.
      expect((await guess(campaign.password as string, '192.0.2.90')).answer.succeeded).toBe('True');
      expect(passwords.lowPriorityPid).toBeUndefined();
      // The failing client's next ones, wrong and right: the same answers, compared in the child.
      expect((await guess('wrong-2', '198.51.100.90')).answer.error?.message).toBe(
        'Permanent failure: Invalid authentication credentials',
      );
      const child = passwords.lowPriorityPid as number;
      expect(child).toEqual(expect.any(Number));
      if (process.platform === 'linux') {
        const stat = fs.readFileSync(`/proc/${child}/stat`, 'utf8');
        expect(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])).toBe(19);
      }
      expect((await guess(campaign.password as string, '198.51.100.90')).answer.succeeded).toBe('True');
    } finally {
      await server.close();
      await database.drop();
    }
    // Closing the server ends the child.
    expect(server.services.passwords.lowPriorityPid).toBeUndefined();
  });
});

describe('a failing client with its share of compares under way (SQLite)', () => {
  it('is refused before any lookup, while its compare and other clients go on', async () => {
    const { createTestDatabase } = await import('../support/databases');
    const database = await createTestDatabase('sqlite');
    const server = await startTestServer(database.db, {
      TRUST_PROXY: 'loopback',
      BCRYPT_PER_CLIENT: '1',
      BCRYPT_COST: '10',
      RATE_LIMIT_IP_FAILURES: '10',
      RATE_LIMIT_DELAY_MS: '0',
    });
    try {
      const { campaign, transaction } = await buildScene(server.services);
      const closed = await buildScene(server.services, { allowExternalModification: false });
      // A slow hash (cost 13: ≈ 0.5–1 s a compare), so that the compare below is surely still under way
      // while the next requests are answered.
      const bcrypt = await import('bcrypt');
      await database.db
        .knex('campaigns')
        .where({ id: campaign.id })
        .update({ password_hash: await bcrypt.hash(campaign.password as string, 13) });
      const { passwords, stores } = server.services;
      const attacker = { 'x-forwarded-for': '198.51.100.61' };
      const edit = (password: string, id: number, headers: Record<string, string>) =>
        editByGet(server.baseUrl, { Password: password, TransactionID: String(id), AP: '1.00' }, headers);
      expect((await edit('wrong-1', transaction.id, attacker)).answer.error?.message).toBe(
        'Permanent failure: Invalid authentication credentials',
      );
      // A suspect now: its next guess is compared at low priority; while it is under way the client is busy.
      const underWay = edit('wrong-2', transaction.id, attacker);
      for (let turn = 0; !passwords.wouldBeBusy('198.51.100.61', 'wrong-3'); turn++) {
        if (turn > 5000) throw new Error('the compare never got under way');
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      const lookups = jest.spyOn(stores.transactions, 'findWithCampaign');
      try {
        // Another guess, an unknown id, a closed campaign's transaction: all `rate limited`, none looked up.
        for (const [password, id] of [
          ['wrong-3', transaction.id],
          ['wrong-4', 987654321],
          ['wrong-5', closed.transaction.id],
        ] as const) {
          const { answer } = await edit(password, id, attacker);
          expect(answer.error?.message).toBe(RATE_LIMITED);
        }
        expect(lookups).not.toHaveBeenCalled();
        // Another client is looked up and served as usual.
        expect(
          (await edit(campaign.password as string, transaction.id, { 'x-forwarded-for': '192.0.2.61' })).answer
            .succeeded,
        ).toBe('True');
        expect(lookups).toHaveBeenCalled();
      } finally {
        lookups.mockRestore();
      }
      // The compare under way still gets its own answer, and then the client is no longer busy.
      expect((await underWay).answer.error?.message).toBe('Permanent failure: Invalid authentication credentials');
      expect(passwords.wouldBeBusy('198.51.100.61', 'wrong-3')).toBe(false);
    } finally {
      await server.close();
      await database.drop();
    }
  });
});

describe('a merchant back after its cached credential expired, on a braked campaign (SQLite)', () => {
  it('has its password checked at once, from a new address too, instead of waiting behind the strangers’ turn', async () => {
    const database = await createTestDatabase('sqlite');
    const server = await startTestServer(database.db, {
      TRUST_PROXY: 'loopback',
      RATE_LIMIT_IP_FAILURES: '10',
      RATE_LIMIT_CAMPAIGN_FAILURES: '20',
      RATE_LIMIT_BRAKED_CHECKS_PER_MINUTE: '1',
      RATE_LIMIT_DELAY_MS: '0',
      BCRYPT_LOW_PRIORITY: 'false',
      BCRYPT_SUSPECT_SHARE: '100',
      CREDENTIAL_CACHE_TTL_SECONDS: '1',
    });
    try {
      const { campaign, transaction } = await buildScene(server.services);
      const edit = (ap: string) => ({
        Password: campaign.password as string,
        TransactionID: String(transaction.id),
        AP: ap,
      });
      expect((await editFrom(server.baseUrl, edit('1.00'), '192.0.2.30')).answer.succeeded).toBe('True');
      // 4 addresses × 5 wrong passwords: the campaign is braked, and this minute's turn is spent.
      for (let a = 0; a < 4; a++)
        for (let i = 0; i < 5; i++)
          await editFrom(
            server.baseUrl,
            { Password: `guess-${a}-${i}`, TransactionID: String(transaction.id) },
            `198.18.9.${a + 1}`,
          );
      const stranger = (password: string, ip: string) =>
        editFrom(server.baseUrl, { Password: password, TransactionID: String(transaction.id) }, ip);
      await stranger('guess-x', '198.51.100.77');
      expect((await stranger('guess-y', '198.51.100.78')).message).toBe(RATE_LIMITED);
      // The merchant's cache entry expires (CREDENTIAL_CACHE_TTL_SECONDS=1) while it is idle.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const answers = await Promise.all(
        ['2.00', '3.00', '4.00'].map((ap) => editFrom(server.baseUrl, edit(ap), '192.0.2.31')),
      );
      expect(answers.map((answer) => [answer.answer.succeeded, answer.message])).toEqual([
        ['True', undefined],
        ['True', undefined],
        ['True', undefined],
      ]);
      // A stranger is still braked.
      expect((await stranger('guess-z', '198.51.100.79')).message).toBe(RATE_LIMITED);
      expect(await server.services.stores.modifications.listForTransaction(transaction.id)).toHaveLength(4);
    } finally {
      await server.close();
      await database.drop();
    }
  });
});
