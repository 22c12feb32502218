import type { Logger } from '../logger';
import type { IntakeSettings } from '../store/intake-store';
import type { PullRun } from './pull-run';

/** How often the scheduler looks for campaigns whose pull is due. */
const LOOK_EVERY_MS = 5 * 60_000;

/**
 * Runs each campaign's pull once INTAKE_PULL_INTERVAL_HOURS have passed since its last attempt (failed
 * attempts too: trouble is retried at the next interval). Pulls run one at a time; a second instance
 * may pull the same campaign at the same moment, and the ledger's unique key still takes each file once.
 */
export function createPullScheduler(deps: {
  campaigns: () => Promise<IntakeSettings[]>;
  pull: PullRun;
  intervalMs: number;
  logger: Pick<Logger, 'warn'>;
  now?: () => number;
}) {
  const now = deps.now ?? Date.now;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;

  const pass = async () => {
    for (const settings of await deps.campaigns()) {
      if (stopped) return;
      if (settings.lastPullAt !== null && now() - settings.lastPullAt < deps.intervalMs) continue;
      await deps.pull.run(settings);
    }
  };
  const tick = () => {
    if (running || stopped) return;
    running = pass()
      .catch((error) => deps.logger.warn({ err: error }, 'intake pull pass failed'))
      .finally(() => {
        running = null;
      });
  };
  return {
    start(): void {
      if (timer || stopped) return;
      timer = setInterval(tick, Math.min(LOOK_EVERY_MS, deps.intervalMs)).unref();
      setImmediate(tick);
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
