import crypto from 'node:crypto';
import { classifyDatabaseError } from '../store/database-errors';
import type { IdempotencyStore, RememberedAnswer } from '../store/idempotency-store';
import type { Sql, Statement } from '../store/sql';
import type { Outcome } from './outcome';

const sha256 = (text: string) => crypto.createHash('sha256').update(text).digest('hex');

/**
 * A keyed request as the core carries it (`ModifyOptions.idempotency`): the key, what makes two requests
 * the same (the front door's fingerprint of its parameters) and how the front door renders an applied
 * answer, which is stored with the change and replayed verbatim.
 */
export interface IdempotentRequest {
  key: string;
  fingerprint: string;
  render: (outcome: Extract<Outcome, { kind: 'applied' }>) => string;
}

/** The answer to a key already used with other parameters. */
export const KEY_CONFLICT: Outcome = { kind: 'invalid_parameter', parameter: 'IdempotencyKey' };

/** A campaign's key as one string (the campaign id holds no ':'), for maps of a unit's keys. */
export function campaignKey(campaignId: number, key: string): string {
  return `${campaignId}:${key}`;
}

/** An answer to remember with its change. */
export interface AnswerToRemember {
  campaignId: number;
  key: string;
  fingerprint: string;
  response: string;
  transactionId: number;
}

/**
 * Makes merchants' retries safe (`Idempotency-Key`). Only applied changes are remembered — a
 * failure changed nothing, so a retry simply runs again (a temporary failure must be retried for real).
 * The answer is stored in the change's own database transaction; the key's primary key makes a
 * concurrent twin roll back, after which it replays the winner's answer.
 *
 * Keys belong to a campaign (as Stripe's belong to an account): the campaign of the transaction the
 * request resolves to. One campaign's key never answers, nor blocks, another's request, and the core
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

  /** What a keyed request is answered instead of running: the remembered answer, the conflict, or null (run). */
  async answerFor(campaignId: number, request: IdempotentRequest): Promise<string | Outcome | null> {
    return answerOf(await this.store.find(campaignId, sha256(request.key), this.now()), request.fingerprint);
  }

  /** `answerFor` on what `rememberedStatement` read. */
  answerAmong(remembered: Map<string, RememberedAnswer>, campaignId: number, request: IdempotentRequest) {
    return answerOf(remembered.get(campaignKey(campaignId, request.key)) ?? null, request.fingerprint);
  }

  /**
   * The unexpired answers under these campaigns' keys, as one statement of a unit of work, mapped by
   * `campaignKey`.
   */
  rememberedStatement(keys: Array<{ campaignId: number; key: string }>): Statement<Map<string, RememberedAnswer>> {
    const byHash = new Map(keys.map(({ campaignId, key }) => [campaignKey(campaignId, sha256(key)), key]));
    const statement = this.store.findManyStatement(
      keys.map(({ campaignId, key }) => ({ campaignId, keyHash: sha256(key) })),
      this.now(),
    );
    return {
      ...statement,
      read: (result) => {
        const found = new Map<string, RememberedAnswer>();
        for (const { campaignId, keyHash, ...answer } of statement.read(result)) {
          const key = byHash.get(campaignKey(campaignId, keyHash));
          if (key !== undefined) found.set(campaignKey(campaignId, key), answer);
        }
        return found;
      },
    };
  }

  /** Statements that store applied changes' answers in their unit of work (one key each, distinct). */
  rememberStatements(answers: AnswerToRemember[]): Array<Statement<unknown>> {
    return this.store.insertManyStatements(
      answers.map(({ key, ...answer }) => ({ ...answer, keyHash: sha256(key) })),
      { now: this.now(), ttlMs: this.ttlMs },
    );
  }

  /** Stores one applied change's answer in its unit of work. */
  async remember(sql: Sql, answer: AnswerToRemember): Promise<void> {
    await sql.all(this.rememberStatements([answer]));
  }

  /**
   * A keyed change whose COMMIT landed despite a lost connection: its applied outcome, carrying the answer
   * stored with it (`stored`, which a retry gets too) when that can be read; anything else (an unkeyed
   * change: no `request`) as it is.
   */
  async withStoredAnswer(landed: Outcome, request: IdempotentRequest | undefined): Promise<Outcome> {
    if (!request || landed.kind !== 'applied') return landed;
    const remembered = await this.answerFor(landed.transaction.campaignId, request).catch(() => null);
    return typeof remembered === 'string' ? { ...landed, stored: remembered } : landed;
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

/** A remembered answer replayed as stored (same parameters), the conflict (other parameters), or null: run. */
function answerOf(remembered: RememberedAnswer | null, fingerprint: string): string | Outcome | null {
  if (!remembered) return null;
  return remembered.fingerprint === fingerprint ? remembered.response : KEY_CONFLICT;
}
