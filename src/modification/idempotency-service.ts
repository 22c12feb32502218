import crypto from 'node:crypto';
import { classifyDatabaseError } from '../store/database-errors';
import type { IdempotencyStore } from '../store/idempotency-store';
import type { Sql } from '../store/sql';
import type { Outcome } from './outcome';

const sha256 = (text: string) => crypto.createHash('sha256').update(text).digest('hex');

/** What to do with a keyed request before running it. */
export type IdempotencyDecision = { kind: 'run' } | { kind: 'replay'; response: string } | { kind: 'conflict' };

/**
 * Makes merchants' retries safe (`Idempotency-Key`). Only applied changes are remembered — a
 * failure changed nothing, so a retry simply runs again (a temporary failure must be retried for real).
 * The answer is stored in the change's own database transaction; the key's primary key makes a
 * concurrent twin roll back, after which it replays the winner's answer.
 *
 * Keys belong to a campaign (as Stripe's belong to an account): the campaign of the transaction the
 * request resolves to. One campaign's key never answers, nor blocks, another's request, and the caller
 * asks only once the request has passed every check a fresh one would — its password included.
 *
 * Protocol-free: the front door reads the key and says what makes two requests the same (LinkTrust's
 * `requestFingerprint`) and how an answer is rendered; this keeps them with the change.
 */
export class IdempotencyService {
  constructor(
    private readonly store: IdempotencyStore,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Replay, conflict (same key, other parameters), or run, for a request to the campaign's transaction. */
  async decide(campaignId: number, key: string, fingerprint: string): Promise<IdempotencyDecision> {
    const remembered = await this.store.find(campaignId, sha256(key), this.now());
    if (!remembered) return { kind: 'run' };
    return remembered.fingerprint === fingerprint
      ? { kind: 'replay', response: remembered.response }
      : { kind: 'conflict' };
  }

  /** The afterApply hook that stores the answer with the change. */
  rememberer(key: string, fingerprint: string, render: (outcome: Outcome) => string) {
    return async (sql: Sql, applied: Extract<Outcome, { kind: 'applied' }>) => {
      await this.store.insert(sql, {
        campaignId: applied.transaction.campaignId,
        keyHash: sha256(key),
        fingerprint,
        response: render(applied),
        transactionId: applied.transaction.id,
        now: this.now(),
        ttlMs: this.ttlMs,
      });
    };
  }

  /** True when an error is the key's primary-key collision with a concurrent twin. */
  isTwinCollision(error: unknown): boolean {
    return classifyDatabaseError(error) === 'duplicate_key';
  }

  /** Drops expired keys (called now and then). */
  async sweep(): Promise<number> {
    return this.store.deleteExpired(this.now());
  }
}
