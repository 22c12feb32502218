import { PasswordVerifier } from '../../src/auth/password-verifier';
import { createServices } from '../../src/composition';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { ModificationService } from '../../src/modification/modification-service';
import { LinkTrustRules } from '../../src/linktrust/linktrust-rules';
import { createTestDatabase, TestDatabase } from '../support/databases';
import { buildScene } from '../support/factories';

describe('no timing oracle for transaction ids (core over SQLite)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
  });
  afterAll(async () => database?.drop());

  it('spends one password compare on an unknown transaction, as on a wrong password', async () => {
    const config = loadConfig({ LOG_LEVEL: 'silent', BCRYPT_COST: '4' });
    const services = createServices(config, database.db, createLogger('silent'));
    const compares = { count: 0 };
    const passwords = new PasswordVerifier({
      bcryptCost: 4,
      cacheSize: 0,
      cacheTtlMs: 0,
      compare: async () => (compares.count++, false),
    });
    const core = new ModificationService({
      ...services.stores,
      rules: new LinkTrustRules({ ...services.stores, passwords }),
      postbacks: null,
    });
    const { transaction } = await buildScene(services);
    const command = (transactionId: number, password: string | null) => ({
      identifier: { kind: 'transaction_id' as const, transactionId, campaignId: null },
      changes: {},
      password,
      reason: null,
      executeAffiliatePixel: false,
      clientIp: '192.0.2.1',
      requestId: 'r',
      source: 'api' as const,
    });
    expect(await core.modify(command(transaction.id, 'wrong'))).toEqual({ kind: 'unauthorized' });
    expect(compares.count).toBe(1);
    expect(await core.modify(command(987_654_321, 'wrong'))).toEqual({ kind: 'invalid_transaction' });
    expect(compares.count).toBe(2);
    await services.limiter.close();
    await services.postbackDispatcher.close();
  });
});
