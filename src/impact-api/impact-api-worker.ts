import crypto from 'node:crypto';
import os from 'node:os';
import type { RowModifier } from '../batch/run-row';
import { impactOutcomeOf, prepareImpactChange } from '../impact/impact-batch-rows';
import type { Logger } from '../logger';
import type { ApiAccountStore } from '../store/api-account-store';
import type { ApiSubmission, ApiSubmissionStore } from '../store/api-submission-store';
import { forEachConcurrently } from '../workers/for-each-concurrently';
import { PollLoop } from '../workers/poll-loop';

/** Settings of the worker; every field has a default. */
export interface ImpactApiWorkerOptions {
  /** Submissions read per round. */
  chunkSize?: number;
  /** Actions worked on at once (each action's submissions one after another). */
  concurrency?: number;
  leaseMs?: number;
  pollMs?: number;
  now?: () => number;
}

const LEASE = 'impact-api';

/** What an account's submissions may touch: its campaigns as read this round, and its merchant (or null). */
type AccountScope = { campaignIds: number[]; merchantId: number | null };
const DEFAULTS = { chunkSize: 200, concurrency: 4, leaseMs: 60_000, pollMs: 1000 };

class AlreadyComplete extends Error {}

/**
 * Applies queued API submissions through the core with impact's rules, as a file's rows are: in
 * submission order per action (by ActionId, or by OrderId on an ActionTrackerId), different actions side
 * by side. One worker at a time holds the lease (api_submission_leases), so that several instances may
 * run one and an action's submissions still apply in order; a worker that dies leaves the lease to expire
 * and its submissions, QUEUED or IN_PROGRESS, to the next holder. A submission is marked COMPLETE in the
 * change's own transaction, so a restart neither loses nor repeats one. Passing trouble (database,
 * nightly processing, an hour not rolled up) is never a result: the action's submissions wait for a later round.
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

  /** One chunk under the lease: the number completed, or null when another worker holds the lease. */
  private async applyChunk(keepGoing: () => boolean): Promise<number | null> {
    const { submissions } = this.deps;
    if (!(await submissions.claimLease(LEASE, this.id, this.now(), this.options.leaseMs))) return null;
    const chunk = await submissions.unfinished(this.options.chunkSize);
    if (chunk.length === 0) return 0;
    await submissions.markInProgress(chunk.filter((s) => s.status === 'QUEUED').map((s) => s.id));
    const lanes = new Map<string, ApiSubmission[]>();
    for (const submission of chunk) {
      const key = laneKey(submission);
      lanes.set(key, [...(lanes.get(key) ?? []), submission]);
    }
    // Each account's scope, read once per round: its campaigns, and its merchant (checked again under the lock).
    const scopes = new Map<number, Promise<AccountScope>>();
    const scopeOf = (accountId: number) => {
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
    let completed = 0;
    await forEachConcurrently([...lanes.values()], this.options.concurrency, async (lane) => {
      for (const submission of lane) {
        if (!keepGoing()) return;
        // A submission that must wait holds back the later ones on its action.
        if (!(await this.apply(submission, await scopeOf(submission.accountId)))) return;
        completed += 1;
      }
    });
    return completed;
  }

  /** Applies one submission: true when it is complete, false when it waits for a later round. */
  private async apply(submission: ApiSubmission, { campaignIds, merchantId }: AccountScope): Promise<boolean> {
    const { submissions, modifications, logger } = this.deps;
    const prepared = prepareImpactChange(
      { rowNumber: 1, parameters: submission.parameters },
      { campaignIds, merchantId, clientIp: '', requestId: `api-${submission.publicId}` },
      this.deps.accountCurrency,
    );
    const finish = async (code: string | null | undefined, message: string, actionId: string | null) => {
      await submissions.complete(submission.id, {
        code: code ?? 'MALFORMED',
        message,
        actionId,
        completedAt: this.now(),
      });
      return true;
    };
    if (prepared.kind === 'decided') return finish(prepared.result.code, prepared.result.message, submission.actionId);
    try {
      const outcome = await modifications.modify(prepared.command, {
        afterApply: async (sql, applied) => {
          const { code, message } = prepared.success(applied);
          const result = {
            code: code ?? 'MODIFIED',
            message,
            actionId: applied.transaction.actionId,
            completedAt: this.now(),
          };
          if (!(await submissions.complete(submission.id, result, sql))) throw new AlreadyComplete();
        },
      });
      if (outcome.kind === 'applied') return true;
      const decided = impactOutcomeOf(prepared, outcome);
      if (decided.kind === 'transient') return false;
      return finish(decided.result.code, decided.result.message, submission.actionId);
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
