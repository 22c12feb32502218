import type { Knex } from 'knex';
import { readStatement, writeStatement, type SqlValue, type Statement, type WriteResult } from './sql';

/** A remembered answer. */
export interface RememberedAnswer {
  fingerprint: string;
  response: string;
  expiresAt: number;
}

/** A remembered answer with the campaign and key hash it is stored under (one of a unit's reads). */
export interface RememberedUnderKey extends RememberedAnswer {
  campaignId: number;
  keyHash: string;
}

/** Where an answer is stored: one campaign's key (its sha256 hash). */
export interface AnswerKey {
  campaignId: number;
  keyHash: string;
}

/** An answer to store with the change that gave it. */
export interface NewRememberedAnswer extends AnswerKey {
  fingerprint: string;
  response: string;
  transactionId: number;
}

interface RememberedRow {
  campaign_id: number | string;
  key_hash: string;
  fingerprint: string;
  response: string;
  expires_at: number | string;
}

const COLUMNS = 'campaign_id, key_hash, fingerprint, response, expires_at';
const INSERTED_COLUMNS = '(campaign_id, key_hash, fingerprint, response, transaction_id, created_at, expires_at)';
const INSERTED_ROW = '(?, ?, ?, ?, ?, ?, ?)';

/** `(campaign_id = ? and key_hash = ?) or …` for these keys, with their values. */
function keysCondition(keys: AnswerKey[]): { condition: string; values: SqlValue[] } {
  return {
    // An OR of primary-key equalities rather than a row-value IN: both engines read it as ranges of the key.
    condition: keys.map(() => '(campaign_id = ? and key_hash = ?)').join(' or '),
    values: keys.flatMap(({ campaignId, keyHash }) => [campaignId, keyHash]),
  };
}

/** The idempotency_keys table: one campaign's keys apart from another's (primary key campaign, key hash). */
export class IdempotencyStore {
  constructor(private readonly knex: Knex) {}

  /** The unexpired answer stored under a campaign's key hash, or null. */
  async find(campaignId: number, keyHash: string, now: number): Promise<RememberedAnswer | null> {
    const row = await this.knex('idempotency_keys')
      .where({ campaign_id: campaignId, key_hash: keyHash })
      .andWhere('expires_at', '>', now)
      .first();
    return row ? { fingerprint: row.fingerprint, response: row.response, expiresAt: Number(row.expires_at) } : null;
  }

  /**
   * The unexpired answers stored under any of these keys, as one statement of a unit of work (the
   * one-unit path reads every keyed change's answer at once, under the changes' row locks).
   */
  findManyStatement(keys: AnswerKey[], now: number): Statement<RememberedUnderKey[]> {
    const { condition, values } = keysCondition(keys);
    return readStatement(
      `select ${COLUMNS} from idempotency_keys where expires_at > ? and (${condition})`,
      [now, ...values],
      (rows: RememberedRow[]) =>
        rows.map((row) => ({
          campaignId: Number(row.campaign_id),
          keyHash: row.key_hash,
          fingerprint: row.fingerprint,
          response: row.response,
          expiresAt: Number(row.expires_at),
        })),
      // The text varies with the number of keys: not prepared (see `StatementOptions.once`).
      { once: keys.length > 1 },
    );
  }

  /**
   * Stores answers inside their changes' unit of work, as two statements to go in one round trip: an
   * expired entry under the same key no longer counts and is replaced; an unexpired one (a concurrent
   * twin's) fails the insert on the primary key.
   */
  insertManyStatements(
    answers: NewRememberedAnswer[],
    times: { now: number; ttlMs: number },
  ): [Statement<WriteResult>, Statement<WriteResult>] {
    const { condition, values } = keysCondition(answers);
    const once = answers.length > 1;
    return [
      writeStatement(`delete from idempotency_keys where expires_at <= ? and (${condition})`, [times.now, ...values], {
        once,
      }),
      writeStatement(
        `insert into idempotency_keys ${INSERTED_COLUMNS} values ${answers.map(() => INSERTED_ROW).join(', ')}`,
        answers.flatMap((answer) => [
          answer.campaignId,
          answer.keyHash,
          answer.fingerprint,
          answer.response,
          answer.transactionId,
          times.now,
          times.now + times.ttlMs,
        ]),
        { once },
      ),
    ];
  }

  /** Deletes expired entries; returns how many. */
  async deleteExpired(now: number): Promise<number> {
    return this.knex('idempotency_keys').where('expires_at', '<=', now).delete();
  }
}
