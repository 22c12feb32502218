import type { Transaction } from '../core/transaction';
import { classifyDatabaseError } from '../store/database-errors';
import type { ChangeWriter } from './change-writer';
import type { ModificationCommand, TransactionIdentifier } from './command';
import type { IdempotentRequest } from './idempotency-service';
import { KeyedUnit, type UnitChange } from './keyed-unit';
import type { ModificationServiceDeps } from './modification-service';
import type { Outcome } from './outcome';
import type { Located } from './rules';
import { SmartBatcher } from './smart-batcher';
import type { UnitOfWork } from './unit-of-work';

/** A command of the one-unit path, with its key when it has one. */
export interface AtOnce {
  command: ModificationCommand;
  idempotency?: IdempotentRequest;
}

/**
 * A coalesced command's answer: its outcome or a keyed request's remembered answer (a string, replayed
 * verbatim), null to take the usual path; or the trouble its unit met.
 */
export type Settled = { ok: true; outcome: Outcome | string | null } | { ok: false; error: unknown };

const DEFAULT_COALESCED_CHANGES = 64;

/**
 * The core's one-unit path: the common success of a command whose checks may run under its row lock,
 * taken in a unit of work shared with every command that arrived meanwhile (`SmartBatcher`, no timer),
 * or alone when coalescing is off. A command it cannot answer exactly as the usual path would settles as
 * null, having written nothing, and takes the usual path.
 */
export class OneUnitPath {
  /** Null when coalescing is off: each change then has a unit of its own. */
  private readonly batcher: SmartBatcher<AtOnce, Settled> | null;
  /** Changes run without coalescing, each its own unit (`coalesce: false`). */
  private aloneUnits = 0;
  /** Keyed changes sent to this path (coalesced, or alone with `coalesce: false`), fallbacks included. */
  private keyed = 0;

  constructor(
    private readonly deps: ModificationServiceDeps,
    private readonly writer: ChangeWriter,
    private readonly unit: UnitOfWork,
  ) {
    const { coalesce } = deps;
    this.batcher =
      coalesce === false
        ? null
        : new SmartBatcher((items) => this.applyCoalesced(items), {
            maxBatch: coalesce?.maxChanges ?? DEFAULT_COALESCED_CHANGES,
            maxInFlight: coalesce?.maxUnits ?? (deps.sql.engine === 'sqlite' ? 1 : 2),
            // SQLite's units run without giving the event loop a turn: nothing could queue behind them.
            startOnNextTurn: deps.sql.engine === 'sqlite',
          });
  }

  /** The command's answer once its unit has run (null: take the usual path), or the trouble its unit met. */
  submit(item: AtOnce): Promise<Settled> {
    if (item.idempotency) this.keyed += 1;
    return this.batcher ? this.batcher.submit(item) : this.applyAlone(item);
  }

  /** Changes and units of work of this path so far, and how many of those changes were keyed. */
  coalescing(): { changes: number; units: number; keyed: number } {
    const { keyed } = this;
    if (!this.batcher) return { changes: this.aloneUnits, units: this.aloneUnits, keyed };
    const { items, batches } = this.batcher.stats();
    return { changes: items, units: batches, keyed };
  }

  /**
   * The one-unit path for the commands that arrived together (`SmartBatcher`): one unit of work for all,
   * retried whole after a deadlock. When it still fails, a lone command fails as it always did (a lost
   * connection: applied if its history row says so); several fall back to smaller units — each command
   * whose COMMIT did not land takes the usual path on its own, so nothing applies twice, and one whose
   * landing cannot be told is answered with the trouble.
   */
  private async applyCoalesced(items: AtOnce[]): Promise<Settled[]> {
    // A unit's history rows are told apart by request id (read back after the insert, looked up after a
    // lost connection): commands repeating one run in the next unit, in arrival order.
    const settled: Settled[] = [];
    for (const run of runsOfDistinctRequestIds(items)) settled.push(...(await this.applyUnit(run)));
    return settled;
  }

  /** The one-unit path without coalescing: the change in a unit of its own, at once. */
  private async applyAlone(item: AtOnce): Promise<Settled> {
    this.aloneUnits += 1;
    const [settled] = await this.applyUnit([item]);
    return settled;
  }

  private async applyUnit(items: AtOnce[]): Promise<Settled[]> {
    const { unit, deps } = this;
    try {
      const outcomes = await unit.withRetries(() => this.applyAtOnce(items));
      return outcomes.map((outcome) => ({ ok: true, outcome }));
    } catch (error) {
      const trouble = classifyDatabaseError(error);
      // A keyed change's answer collided with a concurrent unit's (the same key, stored between our read and
      // our insert): the unit rolled back, and each command takes the usual path, which answers twins.
      if (trouble === 'duplicate_key' && items.some((item) => item.idempotency))
        return items.map(() => ({ ok: true, outcome: null }));
      // Several commands fall back to smaller units (each on its own, by the usual path); a lone one answers the trouble.
      const alone: Settled = items.length > 1 ? { ok: true, outcome: null } : { ok: false, error };
      if (trouble === 'deadlock' || trouble === 'lock_timeout') return items.map(() => alone);
      if (trouble !== 'connection') return items.map(() => ({ ok: false, error }));
      // The COMMIT may have landed: each command's history row says so; when that cannot be told, the trouble.
      return Promise.all(
        items.map(({ command, idempotency }) =>
          unit
            .landedDespiteLoss(command, null)
            .then((landed) => (landed ? (deps.keyedAnswers?.withStoredAnswer(landed, idempotency) ?? landed) : null))
            .then(
              (landed): Settled => (landed ? { ok: true, outcome: landed } : alone),
              (): Settled => ({ ok: false, error }),
            ),
        ),
      );
    }
  }

  /**
   * The common success in one unit of work, for every command that came together: take the shared lock on
   * the processing state and each named transaction's row lock (which reads its campaign's settings) in
   * one round trip, run the same pre-checks on what was read (`under-lock`), then write all the passing
   * changes in arrival order, the COMMIT going with the writes — two round trips for the lot, where each
   * change alone took two. A command whose pre-checks would not pass without a compare gets null, having
   * written nothing: the caller takes the usual path, which answers every refusal (and counts every
   * failure) exactly once. Rows are locked in primary-key order where the ids are known, so two units in
   * flight do not deadlock each other. Keyed commands are answered as `KeyedUnit` says: their remembered
   * answers read in one more statement, theirs stored with the writes (before a COMMIT of its own).
   */
  private async applyAtOnce(items: AtOnce[]): Promise<Array<Outcome | string | null>> {
    const { deps } = this;
    const { rules } = deps;
    const lockOrder = items
      .map(({ command }, index) => ({ index, identifier: command.identifier }))
      .sort((a, b) => lockRank(a.identifier) - lockRank(b.identifier));
    return deps.sql.transaction(async (sql) => {
      const [state, ...lockedInOrder] = await sql.all([
        deps.processingState.readForModificationStatement(),
        ...lockOrder.map(({ identifier }) =>
          deps.transactions.lockWithCampaignStatement(
            identifier.kind === 'transaction_id'
              ? { id: identifier.transactionId }
              : { clickId: clickIdOf(identifier) },
          ),
        ),
      ]);
      const found: Located[][] = new Array(items.length);
      lockOrder.forEach(({ index }, position) => (found[index] = lockedInOrder[position] as Located[]));
      const results: Array<Outcome | string | null> = items.map(() => null);
      const ready: UnitChange[] = [];
      const locked = new Map<number, Transaction>();
      for (const [index, { command, idempotency }] of items.entries()) {
        const checked = await rules.precheck(
          command,
          { nightlyInProgress: state.nightlyInProgress, found: found[index] },
          'under-lock',
        );
        if ('kind' in checked) continue;
        for (const match of found[index]) locked.set(match.transaction.id, match.transaction);
        const change = { index, transactionId: checked.transaction.id, campaignId: checked.campaign.id, command };
        ready.push(idempotency ? { ...change, idempotency } : change);
      }
      if (ready.length === 0) return results;
      // Only a unit holding a keyed change reads remembered answers: unkeyed edits pay nothing for it.
      const keyed = ready.some((change) => change.idempotency)
        ? await KeyedUnit.read(sql, deps.keyedAnswers!, ready)
        : null;
      const toWrite = keyed ? keyed.toWrite : ready;
      if (toWrite.length > 0) {
        const outcomes = await this.writer.writeLocked(sql, state, [...locked.values()], toWrite, {
          commit: !keyed?.remembers,
        });
        toWrite.forEach((change, position) => (results[change.index] = outcomes[position]));
        const remember = keyed?.rememberStatements(outcomes) ?? [];
        if (remember.length > 0) await sql.all(remember, { commit: true });
      }
      keyed?.answers.forEach((answer, index) => (results[index] = answer));
      return results;
    });
  }
}

/** Lock order of the one-unit path: transaction ids ascending (as InnoDB takes them), click ids after. */
function lockRank(identifier: TransactionIdentifier): number {
  return identifier.kind === 'transaction_id' ? identifier.transactionId : Number.MAX_SAFE_INTEGER;
}

function clickIdOf(identifier: TransactionIdentifier): string {
  if (identifier.kind !== 'click_id') throw new Error(`the one-unit path cannot lock by ${identifier.kind}`);
  return identifier.clickId;
}

/** Consecutive runs of commands whose request ids differ within each run (arrival order kept). */
function runsOfDistinctRequestIds(items: AtOnce[]): AtOnce[][] {
  const runs: AtOnce[][] = [];
  let seen = new Set<string>();
  for (const item of items) {
    if (runs.length === 0 || seen.has(item.command.requestId)) {
      runs.push([]);
      seen = new Set();
    }
    seen.add(item.command.requestId);
    runs[runs.length - 1].push(item);
  }
  return runs;
}
