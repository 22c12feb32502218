import type { RowModifier } from '../../../src/batch/run-row';
import type { Transaction } from '../../../src/core/transaction';
import { LinkTrustRules } from '../../../src/linktrust/linktrust-rules';
import type { ModificationCommand } from '../../../src/modification/command';
import type { ModifyManyOptions, ModifyOptions } from '../../../src/modification/modification-service';
import { isPassing, type Outcome } from '../../../src/modification/outcome';
import type { ModificationRules } from '../../../src/modification/rules';
import type { Sql } from '../../../src/store/sql';
import { FakeCatalogue, FakePasswords, FakeWhitelist } from './modification-fakes';

/** The unit of work a fake change hands `afterApply`: in-memory fakes of the stores ignore it. */
export const FAKE_SQL = Object.freeze({ fake: 'unit of work' }) as unknown as Sql;

/** One change the fake committed, as the history would hold it. */
export interface FakeHistoryRow {
  modificationId: number;
  requestId: string;
  before: Transaction;
  after: Transaction;
}

/**
 * The core as a front door calls it (`modify`, `modifyMany`), in memory: a front door's real rules
 * (LinkTrust's by default) decide on the fakes' transactions, campaigns and passwords, in the same
 * order and with the same outcomes as `ModificationService`; a change then applies to the catalogue's
 * transaction and its history, after `afterApply` — which throwing rolls back, as the real unit of work
 * does. No statistics, outbox, retries or recovery: those are the real service's, tested on databases.
 */
export class FakeModificationService implements Required<RowModifier> {
  /** The hour everything before is rolled up (`hourly_pending` for a later transaction). */
  rolledUpThrough = Number.MAX_SAFE_INTEGER;
  /** Database trouble to answer instead, for a command (null: none), like the core's `outcomeOfTrouble`. */
  trouble: (command: ModificationCommand) => Outcome | null = () => null;
  readonly history: FakeHistoryRow[] = [];
  /** Calls of `modify` and of `modifyMany`, to tell which path a caller took. */
  calls = { modify: 0, modifyMany: 0 };

  constructor(
    private readonly rules: ModificationRules,
    private readonly catalogue: FakeCatalogue,
    private readonly now: () => number = () => 1_000,
  ) {}

  async modify(
    command: ModificationCommand,
    options: ModifyOptions & { idempotency?: undefined } = {},
  ): Promise<Outcome> {
    this.calls.modify++;
    const trouble = this.trouble(command);
    if (trouble) return trouble;
    const checked = await this.rules.precheck(command, undefined, 'before-lock');
    if ('kind' in checked) return checked;
    const { outcomes, rows } = this.write([{ id: checked.transaction.id, command }]);
    const [outcome] = outcomes;
    if (outcome.kind === 'applied') await options.afterApply?.(FAKE_SQL, outcome);
    this.commit(rows);
    return outcome;
  }

  async modifyMany(commands: ModificationCommand[], options: ModifyManyOptions): Promise<Outcome[] | null> {
    this.calls.modifyMany++;
    const outcomes: Outcome[] = new Array(commands.length);
    const ready: Array<{ index: number; id: number; command: ModificationCommand }> = [];
    for (const [index, command] of commands.entries()) {
      const checked = this.trouble(command) ?? (await this.rules.precheck(command, undefined, 'before-lock'));
      if ('kind' in checked) outcomes[index] = checked;
      else ready.push({ index, id: checked.transaction.id, command });
    }
    // As the real core: passing trouble sends the whole chunk back to be run command by command.
    if (outcomes.some(isPassing)) return null;
    if (ready.length === 0) return outcomes;
    const { outcomes: written, rows } = this.write(ready);
    if (written.some(isPassing)) return null;
    const applied: number[] = [];
    const appliedOutcomes: Array<Extract<Outcome, { kind: 'applied' }>> = [];
    ready.forEach((change, i) => {
      const outcome = written[i];
      if (outcome.kind !== 'applied') return;
      applied.push(change.index);
      appliedOutcomes.push(outcome);
    });
    if (applied.length > 0) await options.afterApply?.(FAKE_SQL, applied, appliedOutcomes);
    this.commit(rows);
    ready.forEach((change, i) => (outcomes[change.index] = written[i]));
    return outcomes;
  }

  /** The changes under the "locks": the rules' locked refusals, then the new values (not yet committed). */
  private write(changes: Array<{ id: number; command: ModificationCommand }>): {
    outcomes: Outcome[];
    rows: FakeHistoryRow[];
  } {
    const state = { nightlyInProgress: this.catalogue.nightlyInProgress, rolledUpThrough: this.rolledUpThrough };
    const unitRefusal = this.rules.refuseLockedUnit(state);
    if (unitRefusal) return { outcomes: changes.map(() => unitRefusal), rows: [] };
    const current = new Map<number, Transaction>();
    const rows: FakeHistoryRow[] = [];
    const outcomes = changes.map(({ id, command }): Outcome => {
      const before = current.get(id) ?? this.catalogue.transactions.find((transaction) => transaction.id === id);
      if (!before) return { kind: 'invalid_transaction' };
      const refusal = this.rules.refuseLockedChange(state, before);
      if (refusal) return refusal;
      const after: Transaction = {
        ...before,
        affiliatePayout: command.changes.affiliatePayout ?? before.affiliatePayout,
        merchantRevenue: command.changes.merchantRevenue ?? before.merchantRevenue,
        approved: command.changes.approved ?? before.approved,
        updatedAt: this.now(),
      };
      current.set(id, after);
      const modificationId = ++this.modificationIds;
      rows.push({ modificationId, requestId: command.requestId, before, after });
      return { kind: 'applied', transaction: after, modificationId };
    });
    return { outcomes, rows };
  }

  private modificationIds = 0;

  /** The unit of work committed (afterApply did not throw): the new values and history rows stay. */
  private commit(rows: FakeHistoryRow[]): void {
    for (const row of rows) {
      const index = this.catalogue.transactions.findIndex((transaction) => transaction.id === row.after.id);
      this.catalogue.transactions[index] = row.after;
      this.history.push(row);
    }
  }
}

/**
 * A modification service on in-memory fakes (Unleash's `createFakeXService`): LinkTrust's real rules
 * over a fake catalogue, white-list and passwords, with the fakes to set a scene with. Campaign 7 (its
 * password `secret`) and its transaction 101 are there already, every hour rolled up.
 */
export function createFakeModificationService(options: { rules?: ModificationRules; now?: () => number } = {}) {
  const catalogue = new FakeCatalogue();
  const whitelist = new FakeWhitelist();
  const passwords = new FakePasswords();
  const rules =
    options.rules ??
    new LinkTrustRules({
      transactions: catalogue,
      campaigns: catalogue,
      whitelist,
      passwords,
      limiter: null,
    });
  catalogue.campaign(7);
  passwords.right.set(7, 'secret');
  catalogue.transaction(101, 7);
  const modifications = new FakeModificationService(rules, catalogue, options.now);
  return { modifications, catalogue, whitelist, passwords };
}
