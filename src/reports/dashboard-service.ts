import { HOUR_MS } from '../core/hours';
import type { ProcessingService, ProcessingStatus } from '../processing/processing-service';
import type { RefusalTally } from '../refusals/refusal-tally';
import type { Batch, BatchStore } from '../store/batch-store';
import type { AppliedHour, DashboardQueries, DeliveryCounts, NetChange } from '../store/dashboard-queries';
import type { RefusalHour } from '../store/refusal-store';

/** The spans the dashboard switches between. */
export type DashboardWindow = '24h' | '7d';

const WINDOW_HOURS: Record<DashboardWindow, number> = { '24h': 24, '7d': 24 * 7 };
const ACTIVE_BATCHES_SHOWN = 20;

/** The console's landing page at a glance: one window of hours, oldest first. */
export interface Dashboard {
  window: DashboardWindow;
  /** First hour start and the end (epoch ms): the hours shown. */
  from: number;
  to: number;
  /** Every UTC hour start of the window, oldest first (hours with nothing in them included). */
  hours: number[];
  applied: AppliedHour[];
  refused: RefusalHour[];
  net: NetChange;
  deliveries: DeliveryCounts;
  batches: Batch[];
  processing: ProcessingStatus;
}

/** Assembles the dashboard from the modifications history, the refusal tally, the outbox and the batches. */
export class DashboardService {
  private readonly now: () => number;

  constructor(
    private readonly deps: {
      queries: DashboardQueries;
      refusals: Pick<RefusalTally, 'hours'>;
      batches: Pick<BatchStore, 'active'>;
      processing: Pick<ProcessingService, 'status'>;
      now?: () => number;
    },
  ) {
    this.now = deps.now ?? Date.now;
  }

  /** The dashboard of the last 24 hours or 7 days (whole UTC hours, the current one included). */
  async dashboard(window: DashboardWindow): Promise<Dashboard> {
    const to = Math.floor(this.now() / HOUR_MS) * HOUR_MS + HOUR_MS;
    const from = to - WINDOW_HOURS[window] * HOUR_MS;
    const span = { from, to };
    const [applied, refused, net, deliveries, batches, processing] = await Promise.all([
      this.deps.queries.appliedPerHour(span),
      this.deps.refusals.hours(span),
      this.deps.queries.netChange(span),
      this.deps.queries.deliveries(span),
      this.deps.batches.active(ACTIVE_BATCHES_SHOWN),
      this.deps.processing.status(),
    ]);
    const hours: number[] = [];
    for (let hour = from; hour < to; hour += HOUR_MS) hours.push(hour);
    return { window, from, to, hours, applied, refused, net, deliveries, batches, processing };
  }
}
