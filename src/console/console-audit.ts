import type { AfterChange } from '../store/after-change';
import type { AuditEntry, ConsoleAuditStore } from '../store/console-audit-store';
import { retryingLockConflicts } from '../store/lock-retries';
import type { UnitOfWork } from '../store/unit-of-work';

/** Who did something in the console, and from where. */
export interface ConsoleActor {
  actor: string;
  clientIp: string | null;
  requestId: string | null;
}

/** Records every change made through the console and lists them for the Audit page. */
export class ConsoleAuditLog {
  private readonly now: () => number;

  constructor(
    private readonly store: ConsoleAuditStore,
    private readonly units: Pick<UnitOfWork, 'alone'>,
    options: { now?: () => number } = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /**
   * The entry for a change, to be written inside the change's own database transaction (the service
   * that owns it calls it after the change): the change and its entry commit together or not at all,
   * so no crash between the two can leave a change unaudited. `target` and `details` may be worked out
   * from what the change produced; `details` must never hold a password or token.
   */
  within<T>(
    who: ConsoleActor,
    action: string,
    target: string | null | ((result: T) => string | null),
    details: Record<string, unknown> | null | ((result: T) => Record<string, unknown> | null) = null,
  ): AfterChange<T> {
    return async (sql, result) => {
      const entry = {
        at: this.now(),
        actor: who.actor,
        action,
        target: typeof target === 'function' ? target(result) : target,
        details: typeof details === 'function' ? details(result) : details,
        clientIp: who.clientIp,
        requestId: who.requestId,
      };
      await this.store.append(sql, entry);
    };
  }

  /** Appends one entry on its own: for an action that changed nothing (a refused run). */
  async record(
    who: ConsoleActor,
    action: string,
    target: string | null,
    details: Record<string, unknown> | null = null,
  ): Promise<void> {
    const at = this.now();
    await retryingLockConflicts(() =>
      this.store.append(this.units.alone, {
        at,
        actor: who.actor,
        action,
        target,
        details,
        clientIp: who.clientIp,
        requestId: who.requestId,
      }),
    );
  }

  /** Entries newest first, a page at a time. */
  async recent(options: { limit: number; beforeId?: number }): Promise<AuditEntry[]> {
    return this.store.list(options);
  }
}
