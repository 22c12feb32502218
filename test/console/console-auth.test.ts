import crypto from 'node:crypto';
import bcrypt from 'bcrypt';
import { AdminAuthBrake } from '../../src/auth/admin-auth-brake';
import { MemoryFailureLimiter } from '../../src/auth/failure-limiter';
import { ConsoleAuth, ConsoleAuthSettings, SIGN_IN_FAILURES_PER_WINDOW } from '../../src/console/console-auth';
import { ConsoleSessionStore } from '../../src/store/console-session-store';
import { SqlRunner } from '../../src/store/sql';
import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';

const HOUR = 3_600_000;

describe.each(testEngines())('console sign-in and sessions on %s', (engine) => {
  let database: TestDatabase;
  let store: ConsoleSessionStore;
  let clock: number;
  let aliceHash: string;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
    store = new ConsoleSessionStore(database.db.knex, new SqlRunner(database.db.knex, database.db.engine));
    aliceHash = await bcrypt.hash('alice-password', 4);
  });
  afterAll(async () => {
    await database?.drop();
  });
  beforeEach(() => {
    clock = Date.UTC(2026, 10, 25, 9, 0, 0);
  });

  const auth = (
    settings: Partial<ConsoleAuthSettings> = {},
    limiter = new MemoryFailureLimiter(15 * 60_000, () => clock),
  ) =>
    new ConsoleAuth({
      sessions: store,
      brake: new AdminAuthBrake(limiter, { failures: SIGN_IN_FAILURES_PER_WINDOW, checksPerMinute: 1 }),
      settings: {
        adminToken: 'the-token',
        users: [{ name: 'alice', passwordHash: aliceHash }],
        sessionTtlMs: 8 * HOUR,
        ...settings,
      },
      now: () => clock,
    });

  it('ends a session when CONSOLE_SESSION_HOURS have passed since sign-in', async () => {
    const console = auth();
    const result = await console.signIn({ name: '', secret: 'the-token', clientIp: '192.0.2.1' });
    if (!result.ok) throw new Error('sign-in refused');
    clock += 8 * HOUR - 1;
    expect((await console.resolve(result.sessionId))?.actor).toBe('admin-token');
    clock += 1;
    expect(await console.resolve(result.sessionId)).toBeNull();
  });

  it('stores only a hash of the session id, never the cookie value', async () => {
    const result = await auth().signIn({ name: 'alice', secret: 'alice-password', clientIp: '192.0.2.1' });
    if (!result.ok) throw new Error('sign-in refused');
    const rows = await database.db.knex('console_sessions').where({ actor: 'alice' });
    expect(rows.map((r) => r.id_hash)).toContain(crypto.createHash('sha256').update(result.sessionId).digest('hex'));
    expect(JSON.stringify(rows)).not.toContain(result.sessionId);
  });

  it('ends token sessions once ADMIN_TOKEN is unset, and a user’s once the user is removed', async () => {
    const token = await auth().signIn({ name: '', secret: 'the-token', clientIp: '192.0.2.1' });
    const alice = await auth().signIn({ name: 'alice', secret: 'alice-password', clientIp: '192.0.2.1' });
    if (!token.ok || !alice.ok) throw new Error('sign-in refused');
    const withoutToken = auth({ adminToken: null });
    expect(await withoutToken.resolve(token.sessionId)).toBeNull();
    expect((await withoutToken.resolve(alice.sessionId))?.actor).toBe('alice');
    expect(await auth({ users: [] }).resolve(alice.sessionId)).toBeNull();
  });

  it('refuses a wrong token, an unknown user, and a user with the token as password', async () => {
    const console = auth();
    for (const attempt of [
      { name: '', secret: 'the-token ' },
      { name: '', secret: '' },
      { name: 'bob', secret: 'alice-password' },
      { name: 'alice', secret: 'the-token' },
    ]) {
      expect(await console.signIn({ ...attempt, clientIp: '192.0.2.2' })).toEqual({ ok: false, reason: 'invalid' });
    }
  });

  it(`throttles a client IP after ${SIGN_IN_FAILURES_PER_WINDOW} failed sign-ins: one sign-in per interval is still checked, and the right token passes`, async () => {
    const limiter = new MemoryFailureLimiter(15 * 60_000, () => clock);
    const console = auth({}, limiter);
    for (let i = 0; i < SIGN_IN_FAILURES_PER_WINDOW; i++) {
      expect(await console.signIn({ name: '', secret: `guess-${i}`, clientIp: '203.0.113.9' })).toEqual({
        ok: false,
        reason: 'invalid',
      });
    }
    // Braked (one check a minute here): this guess is checked and refused, the next sign-in not even looked at.
    expect(await console.signIn({ name: '', secret: 'guess-x', clientIp: '203.0.113.9' })).toEqual({
      ok: false,
      reason: 'throttled',
      retryAfterSeconds: 60,
    });
    expect(await console.signIn({ name: '', secret: 'the-token', clientIp: '203.0.113.9' })).toEqual({
      ok: false,
      reason: 'throttled',
      retryAfterSeconds: 60,
    });
    expect((await console.signIn({ name: '', secret: 'the-token', clientIp: '203.0.113.10' })).ok).toBe(true);
    clock += 60_000;
    expect((await console.signIn({ name: '', secret: 'the-token', clientIp: '203.0.113.9' })).ok).toBe(true);
    expect(await console.signIn({ name: 'alice', secret: 'alice-password', clientIp: '203.0.113.9' })).toEqual({
      ok: false,
      reason: 'throttled',
      retryAfterSeconds: 60,
    });
    clock += 15 * 60_000;
    expect((await console.signIn({ name: 'alice', secret: 'alice-password', clientIp: '203.0.113.9' })).ok).toBe(true);
  });

  it('refuses every sign-in when neither ADMIN_TOKEN nor ADMIN_USERS is set', async () => {
    expect(
      await auth({ adminToken: null, users: [] }).signIn({ name: '', secret: 'anything', clientIp: '192.0.2.1' }),
    ).toEqual({ ok: false, reason: 'disabled' });
  });

  it('forgets expired sessions when someone signs in', async () => {
    const console = auth();
    const old = await console.signIn({ name: '', secret: 'the-token', clientIp: '192.0.2.1' });
    if (!old.ok) throw new Error('sign-in refused');
    clock += 9 * HOUR;
    await console.signIn({ name: '', secret: 'the-token', clientIp: '192.0.2.1' });
    expect(await database.db.knex('console_sessions').where({ id_hash: old.session.idHash })).toEqual([]);
  });

  it('signs out: the session is gone', async () => {
    const console = auth();
    const result = await console.signIn({ name: 'alice', secret: 'alice-password', clientIp: '192.0.2.1' });
    if (!result.ok) throw new Error('sign-in refused');
    await console.signOut(result.sessionId);
    expect(await console.resolve(result.sessionId)).toBeNull();
  });
});
