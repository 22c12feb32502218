import type { AuditEntry, ConsoleAuditStore } from './console-audit-store';
import { retryingLockConflicts } from '../store/lock-retries';

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
    options: { now?: () => number } = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Appends one entry; `details` must never hold a password or token. */
  async record(who: ConsoleActor, action: string, target: string | null, details: Record<string, unknown> | null = null): Promise<void> {
    const at = this.now();
    await retryingLockConflicts(() => this.store.append({ at, actor: who.actor, action, target, details, clientIp: who.clientIp, requestId: who.requestId }));
  }

  /** Entries newest first, a page at a time. */
  async recent(options: { limit: number; beforeId?: number }): Promise<AuditEntry[]> {
    return this.store.list(options);
  }
}
