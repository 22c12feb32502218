import type { Sql, Statement } from '../store/sql';
import type { ReadyChange } from './change-writer';
import { campaignKey, KEY_CONFLICT, type IdempotencyService, type IdempotentRequest } from './idempotency-service';
import type { Outcome } from './outcome';

/** A change of the one-unit path that passed its pre-checks under the locks, with its place in the unit. */
export interface UnitChange extends ReadyChange {
  index: number;
  /** The campaign of the locked transaction: the one its key belongs to. */
  campaignId: number;
  idempotency?: IdempotentRequest;
}

/**
 * The keyed changes of one unit of work (`Idempotency-Key`), answered exactly as each would be alone, one
 * after another in arrival order: their remembered answers are read in one statement, under the unit's
 * row locks; a remembered answer is replayed (the stored string), the same key with other parameters is
 * refused, and nothing is written for either. The first change of a key not remembered runs, and its
 * answer is stored with it in the unit (`rememberStatements`); a later change of the unit with the same
 * key replays that answer or is refused — or, when the first did not apply, takes the usual path (which
 * runs it, as it would have run after a refusal, which is never remembered).
 */
export class KeyedUnit {
  /** What the changes answered without writing, by index: replays (strings) and conflicts. */
  readonly answers = new Map<number, Outcome | string | null>();
  /** What the unit writes, in arrival order: every unkeyed change, and each key's first when it runs. */
  readonly toWrite: UnitChange[] = [];
  /** Changes whose key an earlier change of the unit runs under, with that change. */
  private readonly followers: Array<{ change: UnitChange; leader: UnitChange }> = [];

  private constructor(private readonly idempotency: IdempotencyService) {}

  /** Sorts a unit's changes after reading their keys' answers (one statement, on the unit's connection). */
  static async read(sql: Sql, idempotency: IdempotencyService, ready: UnitChange[]): Promise<KeyedUnit> {
    const unit = new KeyedUnit(idempotency);
    const keys = new Map<string, { campaignId: number; key: string }>();
    for (const { campaignId, idempotency: request } of ready)
      if (request) keys.set(campaignKey(campaignId, request.key), { campaignId, key: request.key });
    const [remembered] = await sql.all([idempotency.rememberedStatement([...keys.values()])]);
    const leaders = new Map<string, UnitChange>();
    for (const change of ready) {
      const request = change.idempotency;
      if (!request) {
        unit.toWrite.push(change);
        continue;
      }
      const scoped = campaignKey(change.campaignId, request.key);
      const leader = leaders.get(scoped);
      if (leader) {
        unit.followers.push({ change, leader });
        continue;
      }
      const answer = idempotency.answerAmong(remembered, change.campaignId, request);
      if (answer !== null) unit.answers.set(change.index, answer);
      else {
        leaders.set(scoped, change);
        unit.toWrite.push(change);
      }
    }
    return unit;
  }

  /** Whether the unit writes a keyed change, whose answer must then be stored before the COMMIT. */
  get remembers(): boolean {
    return this.toWrite.some((change) => change.idempotency !== undefined);
  }

  /**
   * Once the writes are in (`outcomes`: one per `toWrite`), the statements that store the applied keyed
   * changes' answers (none: an empty list); the answers of the changes that followed them are settled.
   */
  rememberStatements(outcomes: Outcome[]): Array<Statement<unknown>> {
    const responses = new Map<UnitChange, string>();
    const remembered = this.toWrite.flatMap((change, position) => {
      const outcome = outcomes[position];
      if (!change.idempotency || outcome.kind !== 'applied') return [];
      const response = change.idempotency.render(outcome);
      responses.set(change, response);
      const { key, fingerprint } = change.idempotency;
      return [{ campaignId: change.campaignId, key, fingerprint, response, transactionId: change.transactionId }];
    });
    for (const { change, leader } of this.followers) {
      const response = responses.get(leader);
      // A leader that did not apply left nothing to replay: the follower runs by the usual path, after it.
      this.answers.set(
        change.index,
        response === undefined
          ? null
          : change.idempotency!.fingerprint === leader.idempotency!.fingerprint
            ? response
            : KEY_CONFLICT,
      );
    }
    return remembered.length > 0 ? this.idempotency.rememberStatements(remembered) : [];
  }
}
