import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What the gauges of the running process read when scraped. */
export interface InstrumentSources {
  /** The database pool: connections in use, idle, and callers waiting for one. */
  pool(): { used: number; free: number; pending: number };
  /** bcrypt compares running and waiting, per queue. */
  compares(): Record<'normal' | 'suspect', { running: number; waiting: number }>;
  /** Rows of queued and running batches without a result yet (a read of the database). */
  batchRowsPending(): Promise<number>;
}

/** The front door a request came in by, from its path. */
export type Door = 'linktrust' | 'admin' | 'console' | 'metrics' | 'health' | 'impact' | 'other';

/** Different label values one label may take before the rest are counted as `other`. */
const MAX_LABEL_VALUES = 200;

/** Request latency buckets (seconds): an edit takes milliseconds, a large upload seconds. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The door of a path: `/transaction.edit`, `/api/v1/…`, `/admin/…`, `/Advertisers/…`, `/metrics`, `/healthz`. */
export function doorOf(path: string): Door {
  const lower = path.toLowerCase();
  if (lower.startsWith('/transaction.edit')) return 'linktrust';
  if (lower.startsWith('/api/')) return 'admin';
  if (lower === '/admin' || lower.startsWith('/admin/')) return 'console';
  if (lower.startsWith('/advertisers/')) return 'impact';
  if (lower === '/metrics') return 'metrics';
  if (lower === '/healthz') return 'health';
  return 'other';
}

/**
 * Keeps a label's values to a bounded set: a message that carries a client's value (a MALFORMED row names
 * the column and what it held) must not grow the scrape without end.
 */
class BoundedLabel {
  private readonly seen = new Set<string>();
  of(value: string): string {
    if (this.seen.has(value)) return value;
    if (this.seen.size >= MAX_LABEL_VALUES) return 'other';
    this.seen.add(value);
    return value;
  }
}

/**
 * The counters and histograms the app feeds as it works — requests and their latency per door, answers per
 * door and message, rate-limit refusals — and gauges of the process read at scrape time: the database
 * pool, the bcrypt compare queues, batch rows waiting. Fed only when metrics are on (METRICS_TOKEN).
 */
export class Instruments {
  private readonly requests: Histogram<'door' | 'status'>;
  private readonly answers: Counter<'door' | 'message'>;
  private readonly rateLimited: Counter<'door'>;
  private readonly messages = new BoundedLabel();

  constructor(registry: Registry, sources: InstrumentSources) {
    const registers = [registry];
    this.requests = new Histogram({
      name: 'txedit_http_request_duration_seconds',
      help: 'HTTP requests by front door and status class (2xx, 4xx, 5xx…), and how long their answers took',
      labelNames: ['door', 'status'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.answers = new Counter({
      name: 'txedit_answers_total',
      help: "Answers to modification requests and file rows by front door and message (LinkTrust's message or impact.com's code)",
      labelNames: ['door', 'message'],
      registers,
    });
    this.rateLimited = new Counter({
      name: 'txedit_rate_limit_refusals_total',
      help: 'Requests refused by a rate limit or a failure brake (LinkTrust "rate limited" answers and HTTP 429s)',
      labelNames: ['door'],
      registers,
    });
    new Gauge({
      name: 'txedit_db_pool_connections',
      help: 'Database pool connections in use and idle, and callers waiting for one (pending)',
      labelNames: ['state'],
      registers,
      collect() {
        const { used, free, pending } = sources.pool();
        this.set({ state: 'used' }, used);
        this.set({ state: 'free' }, free);
        this.set({ state: 'pending' }, pending);
      },
    });
    new Gauge({
      name: 'txedit_password_compares',
      help: 'bcrypt compares running and waiting, in the normal queue and in the suspects’ queue',
      labelNames: ['queue', 'state'],
      registers,
      collect() {
        const load = sources.compares();
        for (const queue of ['normal', 'suspect'] as const) {
          this.set({ queue, state: 'running' }, load[queue].running);
          this.set({ queue, state: 'waiting' }, load[queue].waiting);
        }
      },
    });
    new Gauge({
      name: 'txedit_batch_rows_pending',
      help: 'Rows of queued and running batches without a result yet',
      registers,
      async collect() {
        this.set(await sources.batchRowsPending());
      },
    });
  }

  /** A finished HTTP request: its door, status and duration. A 429 is a rate-limit refusal too. */
  request(path: string, status: number, seconds: number): void {
    const door = doorOf(path);
    this.requests.observe({ door, status: `${Math.floor(status / 100)}xx` }, seconds);
    if (status === 429) this.rateLimited.inc({ door });
  }

  /** A modification answered (a request or a file row), by its message or code. */
  answered(door: 'linktrust' | 'batch', message: string, rateLimited = false): void {
    this.answers.inc({ door, message: this.messages.of(message) });
    if (rateLimited) this.rateLimited.inc({ door });
  }
}
