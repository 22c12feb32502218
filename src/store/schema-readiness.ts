import { type Database, databaseIsReachable, pendingMigrations } from './database';

/**
 * Whether the database can serve this build: it answers, and every migration the build knows is
 * applied. Until then each front door answers "not yet" in its own words (/healthz 503, LinkTrust's
 * temporary failure, the admin API's `not_ready`) instead of failing on a missing table.
 */
export interface Readiness {
  /** True once the schema has been seen current; from then on the hot path asks nothing more. */
  readonly isCurrent: boolean;
  /** null when the schema is current, else why not ("database unreachable", "… 3 migrations pending"). */
  notReadyReason(): Promise<string | null>;
  /** For /healthz: why the database cannot serve right now (also once current: a lost database), or null. */
  healthProblem(): Promise<string | null>;
}

/**
 * Readiness of one database. The schema is looked at until it is current (one probe at a time, shared by
 * the requests that wait for it) and never again after: migrations are not rolled back under a
 * running server.
 */
export class SchemaReadiness implements Readiness {
  private current = false;
  private probe: Promise<string | null> | null = null;

  constructor(private readonly db: Database) {}

  get isCurrent(): boolean {
    return this.current;
  }

  notReadyReason(): Promise<string | null> {
    if (this.current) return Promise.resolve(null);
    this.probe ??= this.check().finally(() => {
      this.probe = null;
    });
    return this.probe;
  }

  async healthProblem(): Promise<string | null> {
    if (!this.current) return this.notReadyReason();
    return (await databaseIsReachable(this.db)) ? null : 'database unreachable';
  }

  private async check(): Promise<string | null> {
    let pending: string[];
    try {
      pending = await pendingMigrations(this.db);
    } catch {
      return 'database unreachable';
    }
    if (pending.length > 0) return schemaNotCurrent(pending);
    this.current = true;
    return null;
  }
}

/** The reason given while migrations are pending. */
export function schemaNotCurrent(pending: readonly string[]): string {
  return `database schema is not current: ${pending.length} migration${pending.length === 1 ? '' : 's'} pending`;
}
