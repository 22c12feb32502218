import autocannon from 'autocannon';
import type { EditRequest, Expectation } from './bench-data';

/** What a response body said, as far as the benchmark cares. */
export type Answer = Expectation | 'rate_limited' | 'server_busy' | 'other';

/** Reads a LinkTrust answer's verdict from its body. */
export function classifyAnswer(body: string): Answer {
  if (body.includes('<Succeeded>True</Succeeded>')) return 'succeeded';
  if (body.includes('Invalid authentication credentials')) return 'unauthorized';
  if (body.includes('Invalid transaction specified')) return 'invalid_transaction';
  if (body.includes('rate limited')) return 'rate_limited';
  if (body.includes('server busy')) return 'server_busy';
  return 'other';
}

/** The figures of one autocannon run. */
export interface LoadResult {
  connections: number;
  durationSeconds: number;
  /** Responses received (any status). */
  responses: number;
  reqPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Responses that were not what the request had to get, non-2xx statuses, socket errors, timeouts. */
  errors: number;
  non2xx: number;
  wrongAnswers: number;
  socketErrors: number;
  timeouts: number;
  /** Responses by verdict (`succeeded`, `unauthorized`, …). */
  answers: Partial<Record<Answer, number>>;
  /** Up to three bodies of wrong answers, for diagnosis. */
  wrongAnswerSamples: string[];
}

/** A run of autocannon that can also be stopped early (the bulk scenario runs edits until a batch ends). */
export interface LoadRun {
  result: Promise<LoadResult>;
  stop(): void;
}

/**
 * Drives `baseUrl` with `connections` keep-alive connections for `durationSeconds`, each request made
 * by `next()` (autocannon `setupRequest`), and checks every answer against what that request expects:
 * on one connection requests are sequential, so the per-connection context holds the expectation of
 * the response being read. A rate-limited answer counts as correct for a request that had to fail —
 * stopping floods early is the rate limiter's job — and as an error for one that had to succeed.
 */
export function startLoad(options: {
  baseUrl: string;
  connections: number;
  durationSeconds: number;
  next: () => EditRequest;
  timeoutSeconds?: number;
  /** Stop after this many requests instead of after `durationSeconds`. */
  amount?: number;
  /** `server busy` is an intended answer to a request that had to fail (a flood from many addresses). */
  busyIsRefusal?: boolean;
}): LoadRun {
  const answers: Partial<Record<Answer, number>> = {};
  const wrongAnswerSamples: string[] = [];
  let wrongAnswers = 0;
  type Context = { expect?: Expectation };
  let settle!: { resolve: (result: LoadResult) => void; reject: (error: unknown) => void };
  const result = new Promise<LoadResult>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const summarise = (raw: autocannon.Result): LoadResult => {
    const seconds = raw.duration > 0 ? raw.duration : options.durationSeconds;
    return {
      connections: options.connections,
      durationSeconds: seconds,
      responses: raw.requests.total,
      reqPerSec: raw.requests.total / seconds,
      p50Ms: raw.latency.p50,
      p90Ms: raw.latency.p90,
      p99Ms: raw.latency.p99,
      maxMs: raw.latency.max,
      errors: raw.non2xx + wrongAnswers + raw.errors,
      non2xx: raw.non2xx,
      wrongAnswers,
      // autocannon counts timeouts among its errors
      socketErrors: raw.errors - raw.timeouts,
      timeouts: raw.timeouts,
      answers,
      wrongAnswerSamples,
    };
  };
  const request: autocannon.Request = {
    setupRequest: (template, context) => {
      const edit = options.next();
      (context as Context).expect = edit.expect;
      return { ...template, method: 'GET', path: edit.path, headers: edit.headers ?? {} };
    },
    onResponse: (status, body, context) => {
      const answer = classifyAnswer(body);
      answers[answer] = (answers[answer] ?? 0) + 1;
      const expected = (context as Context).expect;
      const ok = status >= 200 && status < 300;
      const refused = answer === 'rate_limited' || (answer === 'server_busy' && options.busyIsRefusal === true);
      if (ok && answer !== expected && !(refused && expected !== 'succeeded')) {
        wrongAnswers++;
        if (wrongAnswerSamples.length < 3) wrongAnswerSamples.push(body.slice(0, 600));
      }
    },
  };
  const instance = autocannon(
    {
      url: options.baseUrl,
      connections: options.connections,
      duration: options.durationSeconds,
      ...(options.amount !== undefined ? { amount: options.amount } : {}),
      timeout: options.timeoutSeconds ?? 10,
      requests: [request],
    },
    (error: unknown, raw: autocannon.Result) => (error ? settle.reject(error) : settle.resolve(summarise(raw))),
  );
  return { result, stop: () => instance.stop() };
}
