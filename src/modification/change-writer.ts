import type { ModificationStore, NewModification } from '../store/modification-store';
import type { PostbackDisposition } from '../core/modification-kinds';
import type { ProcessingState, ProcessingStateStore } from '../store/processing-state-store';
import type { Sql, Statement } from '../store/sql';
import { type HourDelta, type StatisticsStore } from '../store/statistics-store';
import { difference, type StatisticsTotals } from '../core/statistics';
import { hourStart } from '../core/hours';
import type { TransactionStore } from '../store/transaction-store';
import type { MerchantStore } from '../store/merchant-store';
import type { ActionValues, Transaction, TransactionValues } from '../core/transaction';
import type { ActionItem } from '../core/action';
import type { ModificationCommand } from './command';
import type { Outcome } from './outcome';
import type { ModificationRules } from './rules';

/** A delivery to queue: the change's transaction as it is after the change, and its history row. */
export interface QueuedChange {
  template: string;
  transaction: Transaction;
  modificationId: number;
  reason: string | null;
}

/** The postback outbox as the core needs it: both calls run inside the changes' unit of work. */
export interface PostbackOutbox {
  /** The affiliates' postback URL templates (null when one has none), in one read. */
  templatesFor(sql: Sql, affiliateIds: number[]): Promise<Map<number, string | null>>;
  /** Queues one delivery of the rendered template per change, in one round trip; `commit`: the unit's last statements. */
  enqueueMany(sql: Sql, changes: QueuedChange[], options?: { commit?: boolean }): Promise<void>;
}

/** What the writer needs of the processing state, read under its shared lock. */
export type LockedState = Pick<ProcessingState, 'nightlyInProgress' | 'rolledUpThrough'>;

/** One authorised command and the transaction its pre-checks found. */
export interface ReadyChange {
  transactionId: number;
  command: ModificationCommand;
}

/** What the writer needs. */
export interface ChangeWriterDeps {
  transactions: Pick<TransactionStore, 'lockStatement' | 'updateStatement'>;
  processingState: Pick<ProcessingStateStore, 'readForModificationStatement'>;
  statistics: Pick<StatisticsStore, 'addToHoursStatement'>;
  modifications: Pick<ModificationStore, 'appendStatement' | 'appendMany'>;
  postbacks: PostbackOutbox | null;
  /** The campaigns' owners, read under the locks for a merchant's changes; absent, such a change is not found. */
  merchants?: Pick<MerchantStore, 'campaignOwnersStatement'>;
  /** The front door's checks that are repeated under the locks. */
  rules: Pick<ModificationRules, 'refuseLockedUnit' | 'refuseLockedChange' | 'changeUnderLock'>;
  now: () => number;
}

/**
 * The locked half of the core: inside one unit of work, re-checks what may have changed since the
 * pre-checks (the rules' `refuseLockedUnit` and `refuseLockedChange`: for LinkTrust the nightly flag and
 * the hour's roll-up), then writes each change with its statistics, history row
 * and postback. Several changes (a chunk of a batch file) share the unit of work and its statements; a
 * transaction named twice is changed in order, each history row chaining from the one before.
 *
 * The statements travel together where they can (`Sql.all`): the locks in one round trip, the writes of
 * a single change (transaction, statistics, history) in another, with the COMMIT when the caller says
 * nothing follows. The usual path of an edit costs four round trips with its lookup and COMMIT, where one
 * statement at a time took eight; `writeLocked` lets the one-unit path (locks taken with its reads) do
 * it in two.
 */
export class ChangeWriter {
  constructor(private readonly deps: ChangeWriterDeps) {}

  /** One outcome per change, in order. Throws (and the caller rolls back) on database trouble. */
  async write(sql: Sql, changes: ReadyChange[]): Promise<Outcome[]> {
    const { deps } = this;
    // The row locks come with the shared lock on the processing state; under nightly processing they
    // are given back, unused, when the unit of work ends.
    const transactionIds = [...new Set(changes.map((change) => change.transactionId))];
    const [state, locked] = await sql.all([
      deps.processingState.readForModificationStatement(),
      deps.transactions.lockStatement(transactionIds),
    ]);
    return this.writeLocked(sql, state, locked, changes);
  }

  /**
   * `write` for a caller that already holds the locks: the processing state read under its shared lock
   * and the changed transactions read under their row locks, in this unit of work. `commit`: nothing
   * follows in the unit of work, so its last statements may carry the COMMIT.
   */
  async writeLocked(
    sql: Sql,
    state: LockedState,
    locked: Transaction[],
    changes: ReadyChange[],
    options: { commit?: boolean } = {},
  ): Promise<Outcome[]> {
    const { deps } = this;
    const unitRefusal = deps.rules.refuseLockedUnit(state);
    if (unitRefusal) return changes.map(() => unitRefusal);
    const current = new Map(locked.map((found) => [found.id, found]));
    // Only a unit holding a merchant's change reads owners: the API's edits pay nothing for it.
    const merchantCampaigns = campaignsOfMerchantChanges(current, changes);
    const owners = merchantCampaigns ? await this.ownersOf(sql, merchantCampaigns) : null;
    const now = deps.now();
    const outcomes: Array<Outcome | { updated: Transaction; result?: string }> = [];
    const history: NewModification[] = [];
    const postbacks: Array<{ index: number; template: string; transaction: Transaction; reason: string | null }> = [];
    // Every template the changes may need, in one read (a chunk's rows may name many affiliates).
    const affiliates = new Set<number>();
    if (deps.postbacks)
      for (const { transactionId, command } of changes) {
        const found = current.get(transactionId);
        if (command.executeAffiliatePixel && found) affiliates.add(found.affiliateId);
      }
    const templates =
      deps.postbacks && affiliates.size > 0 ? await deps.postbacks.templatesFor(sql, [...affiliates]) : new Map();
    const hours = new Map<string, HourDelta>();
    // Changes per transaction in this unit (each adds one to its modification count).
    const changed = new Map<number, number>();
    const changeUnderLock = deps.rules.changeUnderLock?.bind(deps.rules);

    for (const { transactionId, command } of changes) {
      const before = current.get(transactionId);
      if (!before) {
        outcomes.push({ kind: 'invalid_transaction' });
        continue;
      }
      // A merchant's change to a campaign that is no longer its own: not found, as before the locks.
      if (command.merchantId !== undefined && owners?.get(before.campaignId) !== command.merchantId) {
        outcomes.push({ kind: 'invalid_transaction' });
        continue;
      }
      const refusal = deps.rules.refuseLockedChange(state, before);
      if (refusal) {
        outcomes.push(refusal);
        continue;
      }
      let updated: Transaction;
      let result: string | undefined;
      if (changeUnderLock) {
        const decided = changeUnderLock(before, command, now);
        if ('kind' in decided) {
          outcomes.push(decided);
          continue;
        }
        updated = { ...decided.transaction, modificationCount: before.modificationCount + 1, updatedAt: now };
        result = decided.result;
      } else {
        updated = {
          ...before,
          affiliatePayout: command.changes.affiliatePayout ?? before.affiliatePayout,
          merchantRevenue: command.changes.merchantRevenue ?? before.merchantRevenue,
          approved: command.changes.approved ?? before.approved,
          modificationCount: before.modificationCount + 1,
          updatedAt: now,
        };
      }
      const after = values(updated);
      current.set(transactionId, updated);
      changed.set(transactionId, (changed.get(transactionId) ?? 0) + 1);
      addHour(hours, before, difference(values(before), after));

      let postback: PostbackDisposition = 'not_requested';
      if (command.executeAffiliatePixel && deps.postbacks) {
        const template = templates.get(before.affiliateId) ?? null;
        postback = template ? 'queued' : 'no_postback_url';
        if (template) postbacks.push({ index: history.length, template, transaction: updated, reason: command.reason });
      }
      history.push({
        transactionId,
        identifier: command.identifier.kind,
        source: command.source,
        before: values(before),
        after,
        reason: command.reason,
        clientIp: command.clientIp || null,
        requestId: command.requestId,
        postback,
        createdAt: now,
        actor: command.actor ?? null,
      });
      // Completed with its history row's id once the rows are in.
      outcomes.push({ updated, result });
    }

    const ids = await this.writeChanges(
      sql,
      changed,
      current,
      locked,
      [...hours.values()],
      history,
      now,
      options.commit === true && postbacks.length === 0,
      changeUnderLock !== undefined,
    );
    if (postbacks.length > 0)
      await deps.postbacks!.enqueueMany(
        sql,
        postbacks.map(({ index, template, transaction, reason }) => ({
          template,
          transaction,
          modificationId: ids[index],
          reason,
        })),
        { commit: options.commit === true },
      );
    let next = 0;
    return outcomes.map((outcome) =>
      'kind' in outcome
        ? outcome
        : outcome.result === undefined
          ? { kind: 'applied', transaction: outcome.updated, modificationId: ids[next++] }
          : { kind: 'applied', transaction: outcome.updated, modificationId: ids[next++], result: outcome.result },
    );
  }

  /** The owners of these campaigns, read under the unit's locks; without the store, none (such changes are not found). */
  private async ownersOf(sql: Sql, campaignIds: Set<number>): Promise<Map<number, number | null>> {
    if (!this.deps.merchants) return new Map();
    const [owners] = await sql.all([this.deps.merchants.campaignOwnersStatement([...campaignIds])]);
    return owners;
  }

  /**
   * The transactions' new values, the statistics and the history rows; the ids of the history rows. A
   * single change's three statements go in one round trip; a chunk's history rows need their own (their
   * ids are read back by request id).
   */
  private async writeChanges(
    sql: Sql,
    changed: Map<number, number>,
    current: Map<number, Transaction>,
    locked: Transaction[],
    hours: HourDelta[],
    history: NewModification[],
    now: number,
    commit: boolean,
    withAction: boolean,
  ): Promise<number[]> {
    const { deps } = this;
    const writes: Array<Statement<unknown>> = [];
    // A transaction changed by several rows is written once, with its last values; of impact's values only
    // those that moved (most rows change an amount only, and each column costs a CASE over the chunk).
    const before = withAction ? new Map(locked.map((transaction) => [transaction.id, transaction])) : null;
    if (changed.size > 0)
      writes.push(
        deps.transactions.updateStatement(
          [...changed].map(([id, changes]) => {
            const transaction = current.get(id)!;
            return before
              ? { id, values: values(transaction), changes, action: movedActionValues(before.get(id)!, transaction) }
              : { id, values: values(transaction), changes };
          }),
          now,
        ),
      );
    if (hours.length > 0) writes.push(deps.statistics.addToHoursStatement(hours));
    if (history.length !== 1) {
      if (writes.length > 0) await sql.all(writes);
      return deps.modifications.appendMany(sql, history);
    }
    const results = await sql.all([...writes, deps.modifications.appendStatement(history[0])], { commit });
    return [results[results.length - 1] as number];
  }
}

/** The campaigns of the locked transactions that merchants' changes name, or null when the unit holds none. */
function campaignsOfMerchantChanges(current: Map<number, Transaction>, changes: ReadyChange[]): Set<number> | null {
  let campaignIds: Set<number> | null = null;
  for (const { transactionId, command } of changes) {
    const found = command.merchantId === undefined ? undefined : current.get(transactionId);
    if (found) (campaignIds ??= new Set()).add(found.campaignId);
  }
  return campaignIds;
}

/** The impact values that differ after a change (none: an empty object). */
function movedActionValues(before: Transaction, after: Transaction): Partial<ActionValues> {
  const moved: Partial<ActionValues> = {};
  // The code goes with the state: only a change of state writes it (one more CASE, for those rows only).
  if (after.state !== before.state) {
    moved.state = after.state;
    moved.dispositionCode = after.dispositionCode ?? null;
  }
  if (after.customerStatus !== before.customerStatus) moved.customerStatus = after.customerStatus;
  if (!sameItems(before.items, after.items)) moved.items = after.items;
  return moved;
}

function sameItems(a: ActionItem[] | null, b: ActionItem[] | null): boolean {
  if (a === b) return true;
  if (a === null || b === null || a.length !== b.length) return false;
  return a.every(
    (item, i) =>
      item.sku === b[i].sku &&
      item.quantity === b[i].quantity &&
      item.amount === b[i].amount &&
      item.category === b[i].category &&
      item.name === b[i].name,
  );
}

function values(transaction: TransactionValues): TransactionValues {
  return {
    affiliatePayout: transaction.affiliatePayout,
    merchantRevenue: transaction.merchantRevenue,
    approved: transaction.approved,
  };
}

/** Sums a delta into its (hour, campaign, affiliate) row: one upsert row per key for the whole unit. */
function addHour(hours: Map<string, HourDelta>, transaction: Transaction, delta: StatisticsTotals): void {
  const hour = hourStart(transaction.occurredAt);
  const key = `${hour}:${transaction.campaignId}:${transaction.affiliateId}`;
  const existing = hours.get(key);
  if (!existing) {
    hours.set(key, { hour, campaignId: transaction.campaignId, affiliateId: transaction.affiliateId, delta });
    return;
  }
  const sum = existing.delta;
  existing.delta = {
    transactions: sum.transactions + delta.transactions,
    approvedTransactions: sum.approvedTransactions + delta.approvedTransactions,
    affiliatePayout: sum.affiliatePayout + delta.affiliatePayout,
    merchantRevenue: sum.merchantRevenue + delta.merchantRevenue,
    approvedAffiliatePayout: sum.approvedAffiliatePayout + delta.approvedAffiliatePayout,
    approvedMerchantRevenue: sum.approvedMerchantRevenue + delta.approvedMerchantRevenue,
  };
}
