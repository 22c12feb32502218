import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { ProcessingStatus } from '../processing/processing-service';
import type { OutboxBacklog } from '../store/postback-store';

/** Where the gauges read their values at scrape time (each a read of the database). */
export interface MetricsSources {
  processingStatus(): Promise<ProcessingStatus>;
  outboxBacklog(): Promise<OutboxBacklog>;
  /** /transaction.edit's coalesced one-unit path: changes and units of work so far (this process). */
  coalescing?(): { changes: number; units: number };
  now?: () => number;
}

const seconds = (ms: number) => ms / 1000;

/**
 * The Prometheus registry of one app: Node's process metrics and gauges read from the database when
 * scraped. A registry per app (never prom-client's global one), so that tests build apps side by side.
 */
export function createMetricsRegistry(sources: MetricsSources): Registry {
  const registry = new Registry();
  const now = sources.now ?? Date.now;
  collectDefaultMetrics({ register: registry, prefix: 'txedit_' });
  const registers = [registry];

  // One read of the processing state per scrape, shared by the processing gauges.
  let processing: Promise<ProcessingStatus> | null = null;
  const processingOnce = () =>
    (processing ??= sources.processingStatus().finally(() => setImmediate(() => (processing = null))));
  new Gauge({
    name: 'txedit_nightly_in_progress',
    help: 'Whether modifications are refused for nightly processing (1) or not (0)',
    registers,
    async collect() {
      this.set((await processingOnce()).nightly.inProgress ? 1 : 0);
    },
  });
  new Gauge({
    name: 'txedit_nightly_held',
    help: 'Whether an admin holds the nightly flag by hand (1) or not (0)',
    registers,
    async collect() {
      this.set((await processingOnce()).nightly.held ? 1 : 0);
    },
  });
  new Gauge({
    name: 'txedit_nightly_run_lease_live',
    help: 'Whether a nightly run holds a live lease (1), or none runs / its lease expired unrenewed (0)',
    registers,
    async collect() {
      this.set((await processingOnce()).nightly.run?.live ? 1 : 0);
    },
  });
  // A gauge of a count kept in the database, not a counter: every instance reads the same total.
  new Gauge({
    name: 'txedit_nightly_interruptions',
    help: 'Nightly runs found interrupted (their lease expired unrenewed), ever',
    registers,
    async collect() {
      this.set((await processingOnce()).nightly.interruptions);
    },
  });
  new Gauge({
    name: 'txedit_nightly_interrupted_days_pending',
    help: 'Interrupted nightly days not yet done again',
    registers,
    async collect() {
      this.set((await processingOnce()).nightly.interruptedDays.filter((day) => day.completedAt === null).length);
    },
  });
  new Gauge({
    name: 'txedit_nightly_last_completed_timestamp_seconds',
    help: 'When nightly processing last completed (Unix seconds; 0: never)',
    registers,
    async collect() {
      this.set(seconds((await processingOnce()).nightly.lastCompletedAt ?? 0));
    },
  });
  new Gauge({
    name: 'txedit_hourly_rollup_lag_seconds',
    help: 'How far the hourly roll-up lags behind now: now minus the end of the last rolled-up hour',
    registers,
    async collect() {
      const through = (await processingOnce()).hourly.rolledUpThrough;
      this.set(through === null ? 0 : Math.max(0, seconds(now() - through)));
    },
  });

  let backlog: Promise<OutboxBacklog> | null = null;
  const backlogOnce = () => (backlog ??= sources.outboxBacklog().finally(() => setImmediate(() => (backlog = null))));
  new Gauge({
    name: 'txedit_postback_outbox',
    help: 'Postback deliveries waiting (pending) or given up (failed)',
    labelNames: ['status'],
    registers,
    async collect() {
      const { pending, failed } = await backlogOnce();
      this.set({ status: 'pending' }, pending);
      this.set({ status: 'failed' }, failed);
    },
  });
  new Gauge({
    name: 'txedit_postback_outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest pending postback delivery (0: none pending)',
    registers,
    async collect() {
      const { oldestPendingCreatedAt } = await backlogOnce();
      this.set(oldestPendingCreatedAt === null ? 0 : Math.max(0, seconds(now() - oldestPendingCreatedAt)));
    },
  });
  const { coalescing } = sources;
  if (coalescing) {
    // Counters kept by the core: read at scrape time (a counter's reset and inc set it to the core's count).
    new Counter({
      name: 'txedit_edit_units_total',
      help: 'Units of work of the one-unit edit path (each one COMMIT for all the edits coalesced into it)',
      registers,
      collect() {
        this.reset();
        this.inc(coalescing().units);
      },
    });
    new Counter({
      name: 'txedit_edit_unit_changes_total',
      help: 'Edits applied through the one-unit path; divided by txedit_edit_units_total: edits per COMMIT',
      registers,
      collect() {
        this.reset();
        this.inc(coalescing().changes);
      },
    });
  }
  return registry;
}
