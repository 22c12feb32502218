import crypto from 'node:crypto';
import os from 'node:os';
import type { CommandRow, PreparedRow, RowModifier } from '../batch/run-row';
import type { RowResult } from '../core/row-result';
import type { Outcome } from '../modification/outcome';
import { impactOutcomeOf, prepareImpactChange } from '../impact/impact-batch-rows';
import type { Logger } from '../logger';
import type { ApiAccountStore } from '../store/api-account-store';
import type { ApiSubmission, ApiSubmissionStore, SubmissionResult } from '../store/api-submission-store';
import { forEachConcurrently } from '../workers/for-each-concurrently';
import { PollLoop } from '../workers/poll-loop';

/** Settings of the worker; every field has a default. */
export interface ImpactApiWorkerOptions {
  /** Submissions read per round. */
  chunkSize?: number;
  /** Submissions applied in one unit of work of the core (a round's chunk is cut into these). */
  unitSize?: number;
  /** Actions worked on at once (each action's submissions one after another). */
  concurrency?: number;
  leaseMs?: number;
  pollMs?: number;
  now?: () => number;
}

const LEASE = 'impact-api';

/** What an account's submissions may touch: its campaigns as read this round, and its merchant (or null). */
type AccountScope = { campaignIds: number[]; merchantId: number | null };
const DEFAULTS = { chunkSize: 200, unitSize: 100, concurrency: 4, leaseMs: 60_000, pollMs: 1000 };

class AlreadyComplete extends Error {}

/**
 * Applies queued API submissions through the core with impact's rules, as a file's rows are: up to
 * `unitSize` in one unit of work of the core, in submission order (an action named twice changes in that
 * order); a unit that cannot go at once goes submission by submission, in submission order per action (by
 * ActionId, or by OrderId on an ActionTrackerId), different actions side by side. One worker at a time
 * holds the lease (api_submission_leases), so that several instances may run one and an action's
 * submissions still apply in order; a worker that dies leaves the lease to expire and its submissions,
 * QUEUED or IN_PROGRESS, to the next holder. A submission is marked COMPLETE in the change's own unit of
 * work, so a restart neither loses nor repeats one. Passing trouble (database, nightly processing, an hour
 * not rolled up) is never a result: the action's submissions wait for a later round.
 */
export class ImpactApiWorker {
  readonly id = `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;
  private readonly loop: PollLoop;
  private readonly options: typeof DEFAULTS;
  private readonly now: () => number;

  constructor(
    private readonly deps: {
      submissions: ApiSubmissionStore;
      accounts: Pick<ApiAccountStore, 'campaignIdsOf' | 'merchantOf'>;
      modifications: RowModifier;
      accountCurrency: string;
      logger: Logger;
    },
    options: ImpactApiWorkerOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.options = {
      chunkSize: options.chunkSize ?? DEFAULTS.chunkSize,
      unitSize: options.unitSize ?? DEFAULTS.unitSize,
      concurrency: options.concurrency ?? DEFAULTS.concurrency,
      leaseMs: options.leaseMs ?? DEFAULTS.leaseMs,
      pollMs: options.pollMs ?? DEFAULTS.pollMs,
    };
    this.loop = new PollLoop(
      () => this.round(() => this.loop.isRunning),
      this.options.pollMs,
      (error) => deps.logger.error({ err: error }, 'impact API worker round failed'),
    );
  }

  start(): void {
    this.loop.start();
  }

  /** Looks for submissions now (called when one is stored). */
  wake(): void {
    this.loop.wake();
  }

  /** Stops: submissions started finish and are recorded; the lease is handed back. */
  async stop(): Promise<void> {
    await this.loop.stop();
    await this.deps.submissions.releaseLease(LEASE, this.id).catch(() => undefined);
  }

  /** Applies every submission it can now (tests, and the CLI's one-shot run); how many it completed. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const completed = await this.applyChunk(() => true);
      if (completed === null || completed === 0) break;
      total += completed;
    }
    await this.deps.submissions.releaseLease(LEASE, this.id);
    return total;
  }

  private async round(keepGoing: () => boolean): Promise<number> {
    try {
      const completed = await this.applyChunk(keepGoing);
      return completed ? 0 : this.options.pollMs;
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'impact API worker could not apply submissions; will retry');
      return this.options.pollMs;
    }
  }

  /**
   * One chunk under the lease: the number completed, or null when another worker holds the lease. The
   * chunk is applied `unitSize` submissions per unit of work of the core, in submission order; a unit
   * that cannot go at once goes submission by submission in lanes per action (`applyInLanes`).
   */
  private async applyChunk(keepGoing: () => boolean): Promise<number | null> {
    const { submissions } = this.deps;
    if (!(await submissions.claimLease(LEASE, this.id, this.now(), this.options.leaseMs))) return null;
    const chunk = await submissions.unfinished(this.options.chunkSize);
    if (chunk.length === 0) return 0;
    await submissions.markInProgress(chunk.filter((s) => s.status === 'QUEUED').map((s) => s.id));
    const scopeOf = this.scopesOfRound();
    // Actions with a submission that waits: their later submissions wait too (for a later round).
    const waiting = new Set<string>();
    let completed = 0;
    for (let start = 0; start < chunk.length && keepGoing(); start += this.options.unitSize) {
      const unit = chunk.slice(start, start + this.options.unitSize).filter((s) => !waiting.has(laneKey(s)));
      const atOnce = await this.applyAtOnce(unit, scopeOf);
      completed += atOnce.completed;
      if (atOnce.left.length > 0) completed += await this.applyInLanes(atOnce.left, scopeOf, keepGoing, waiting);
    }
    return completed;
  }

  /** Each account's scope, read once per round: its campaigns, and its merchant (checked again under the lock). */
  private scopesOfRound(): (accountId: number) => Promise<AccountScope> {
    const scopes = new Map<number, Promise<AccountScope>>();
    return (accountId) => {
      if (!scopes.has(accountId)) {
        const { accounts } = this.deps;
        const read = Promise.all([accounts.campaignIdsOf(accountId), accounts.merchantOf(accountId)]);
        scopes.set(
          accountId,
          read.then(([campaignIds, merchantId]) => ({ campaignIds, merchantId })),
        );
      }
      return scopes.get(accountId) as Promise<AccountScope>;
    };
  }

  /**
   * The submissions' changes in one unit of work (`modifyMany`: their row locks, one UPDATE, one
   * statistics upsert, one history insert, their outbox rows), each applied one marked COMPLETE in that
   * unit, the refused ones after it. What is `left` goes submission by submission: all of them when the
   * unit could not go at once (passing trouble, or one complete already: another worker) — nothing of it
   * was written then, or what was is marked COMPLETE — or the ones not applied when a refusal was
   * passing (an hour not rolled up), which wait there.
   */
  private async applyAtOnce(
    unit: ApiSubmission[],
    scopeOf: (accountId: number) => Promise<AccountScope>,
  ): Promise<{ completed: number; left: ApiSubmission[] }> {
    const { submissions, modifications, logger } = this.deps;
    if (!modifications.modifyMany || unit.length < 2) return { completed: 0, left: unit };
    const prepared = await Promise.all(unit.map(async (s) => this.prepare(s, await scopeOf(s.accountId))));
    const commands = prepared.flatMap((row, index) =>
      row.kind === 'command' ? [{ row, submission: unit[index] }] : [],
    );
    let outcomes: Outcome[] | null = [];
    try {
      if (commands.length > 0)
        outcomes = await modifications.modifyMany(
          commands.map(({ row }) => row.command),
          {
            concurrency: this.options.concurrency,
            afterApply: async (sql, applied, appliedOutcomes) => {
              const completions = applied.map((index, i) => ({
                id: commands[index].submission.id,
                result: this.appliedResult(commands[index].row, appliedOutcomes[i]),
              }));
              if ((await submissions.completeMany(completions, sql)) !== completions.length)
                throw new AlreadyComplete();
            },
          },
        );
    } catch (error) {
      if (!(error instanceof AlreadyComplete))
        logger.warn({ err: error }, 'impact API submissions failed together; applying them one by one');
      return { completed: 0, left: unit };
    }
    if (outcomes === null) return { completed: 0, left: unit };
    const answered = outcomes;
    const decided = commands.map(({ row }, i) => impactOutcomeOf(row, answered[i]));
    const applied = new Set(commands.filter((_, i) => answered[i].kind === 'applied').map((c) => c.submission));
    if (decided.some((outcome) => outcome.kind === 'transient'))
      return { completed: applied.size, left: unit.filter((s) => !applied.has(s)) };
    const refusals: Array<{ id: number; result: SubmissionResult }> = [];
    prepared.forEach((row, index) => {
      if (row.kind === 'decided')
        refusals.push({ id: unit[index].id, result: this.refusedResult(unit[index], row.result) });
    });
    commands.forEach(({ submission }, i) => {
      const outcome = decided[i];
      if (!applied.has(submission))
        refusals.push({ id: submission.id, result: this.refusedResult(submission, outcome.result) });
    });
    await submissions.completeMany(refusals);
    return { completed: unit.length, left: [] };
  }

  /** Submission by submission, each action's in submission order, `concurrency` actions at once. */
  private async applyInLanes(
    unit: ApiSubmission[],
    scopeOf: (accountId: number) => Promise<AccountScope>,
    keepGoing: () => boolean,
    waiting: Set<string>,
  ): Promise<number> {
    const lanes = new Map<string, ApiSubmission[]>();
    for (const submission of unit) {
      const key = laneKey(submission);
      lanes.set(key, [...(lanes.get(key) ?? []), submission]);
    }
    let completed = 0;
    await forEachConcurrently([...lanes], this.options.concurrency, async ([key, lane]) => {
      for (const submission of lane) {
        // A submission that must wait (or is not started) holds back the later ones on its action.
        if (!keepGoing() || !(await this.apply(submission, await scopeOf(submission.accountId)))) {
          waiting.add(key);
          return;
        }
        completed += 1;
      }
    });
    return completed;
  }

  private prepare(submission: ApiSubmission, { campaignIds, merchantId }: AccountScope): PreparedRow {
    return prepareImpactChange(
      { rowNumber: 1, parameters: submission.parameters },
      { campaignIds, merchantId, clientIp: '', requestId: `api-${submission.publicId}` },
      this.deps.accountCurrency,
    );
  }

  /** An applied submission's result: its code (MODIFIED unless the change says otherwise) and its action. */
  private appliedResult(row: CommandRow, applied: Extract<Outcome, { kind: 'applied' }>): SubmissionResult {
    const { code, message } = row.success(applied);
    return { code: code ?? 'MODIFIED', message, actionId: applied.transaction.actionId, completedAt: this.now() };
  }

  /** A refused submission's result: its code (MALFORMED when it has none) and the action it named. */
  private refusedResult(submission: ApiSubmission, result: RowResult): SubmissionResult {
    return {
      code: result.code ?? 'MALFORMED',
      message: result.message,
      actionId: submission.actionId,
      completedAt: this.now(),
    };
  }

  /** Applies one submission: true when it is complete, false when it waits for a later round. */
  private async apply(submission: ApiSubmission, scope: AccountScope): Promise<boolean> {
    const { submissions, modifications, logger } = this.deps;
    const prepared = this.prepare(submission, scope);
    const finish = async (result: RowResult) => {
      await submissions.complete(submission.id, this.refusedResult(submission, result));
      return true;
    };
    if (prepared.kind === 'decided') return finish(prepared.result);
    try {
      const outcome = await modifications.modify(prepared.command, {
        afterApply: async (sql, applied) => {
          if (!(await submissions.complete(submission.id, this.appliedResult(prepared, applied), sql)))
            throw new AlreadyComplete();
        },
      });
      if (outcome.kind === 'applied') return true;
      const decided = impactOutcomeOf(prepared, outcome);
      if (decided.kind === 'transient') return false;
      return finish(decided.result);
    } catch (error) {
      if (error instanceof AlreadyComplete) return true;
      logger.error({ err: error, submission: submission.publicId }, 'impact API submission failed; will retry');
      return false;
    }
  }
}

/** Submissions naming one action share a key, so they apply in submission order. */
function laneKey(submission: ApiSubmission): string {
  const value = (name: string) => submission.parameters.find((p) => p.name === name)?.value.trim() ?? '';
  const actionId = value('ActionId');
  if (actionId) return `a:${actionId}`;
  return `o:${value('ActionTrackerId')}:${value('Oid')}`;
}
