import autocannon from 'autocannon';
import { BULK_CAMPAIGN, CAMPAIGN_COUNT, randomTransactionOf } from './bench-data';
import type { Answer, LoadResult } from './load';

/**
 * The hourly call limit of the server this scenario runs against (the largest allowed): above what a run sends, so the
 * figure is the time to `QUEUED`, not the time to a 429 (the limit's own cost — one counter per call — is
 * still paid on every request).
 */
export const IMPACT_API_BENCH_RATE_LIMIT = '1000000';

/** What the scenario measured, or why it did not run. */
export type ImpactApiLoad = { load: LoadResult; skipped: null } | { load: null; skipped: string };

/**
 * An impact.com API account for the bulk campaign (whose actions are impact.com actions), made through the
 * admin API as an operator would; null when the route does not exist (the API not landed).
 */
async function createAccount(
  baseUrl: string,
  adminToken: string,
): Promise<{ accountSid: string; authToken: string } | null> {
  const response = await fetch(`${baseUrl}/api/v1/api-accounts`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'bench', campaignIds: [BULK_CAMPAIGN] }),
  });
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`POST /api/v1/api-accounts answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as { accountSid: string; authToken: string };
}

/** A modification of a random action of the bulk campaign, as an impact.com client sends it (form-encoded). */
function modificationBody(transactions: number): string {
  const actionId = randomTransactionOf(transactions, [BULK_CAMPAIGN]);
  const amount = `${1 + Math.floor(Math.random() * 499)}.${String(Math.floor(Math.random() * 100)).padStart(2, '0')}`;
  return `ActionId=${actionId}&Amount=${amount}&DispositionCode=ORDER_UPDATE`;
}

/**
 * `PUT /Advertisers/:sid/Actions` → `200 {"Status":"QUEUED",…}` at `connections` keep-alive connections for
 * `durationSeconds`: the latency of taking a modification in (authentication, rate limit, validation, the
 * durable insert). The queued submissions are applied by the server's worker meanwhile, as in production.
 * Any answer other than a 200 with `QUEUED` counts as an error.
 */
export async function runImpactApiLoad(options: {
  baseUrl: string;
  adminToken: string;
  transactions: number;
  connections: number;
  durationSeconds: number;
}): Promise<ImpactApiLoad> {
  if (options.transactions < CAMPAIGN_COUNT) return { load: null, skipped: 'no bulk-campaign actions seeded' };
  const account = await createAccount(options.baseUrl, options.adminToken);
  if (!account)
    return { load: null, skipped: 'POST /api/v1/api-accounts does not exist yet (impact.com API not landed)' };
  const authorization = `Basic ${Buffer.from(`${account.accountSid}:${account.authToken}`).toString('base64')}`;
  const path = `/Advertisers/${account.accountSid}/Actions`;
  const answers: Partial<Record<Answer, number>> = {};
  const wrongAnswerSamples: string[] = [];
  let wrongAnswers = 0;
  const raw = await new Promise<autocannon.Result>((resolve, reject) => {
    autocannon(
      {
        url: options.baseUrl,
        connections: options.connections,
        duration: options.durationSeconds,
        timeout: 10,
        requests: [
          {
            setupRequest: (template) => ({
              ...template,
              method: 'PUT',
              path,
              headers: {
                Authorization: authorization,
                'Content-Type': 'application/x-www-form-urlencoded',
                Accept: 'application/json',
              },
              body: modificationBody(options.transactions),
            }),
            onResponse: (status, body) => {
              const queued = status === 200 && body.includes('"QUEUED"');
              const answer: Answer = queued ? 'succeeded' : status === 429 ? 'rate_limited' : 'other';
              answers[answer] = (answers[answer] ?? 0) + 1;
              if (!queued && status >= 200 && status < 300) {
                wrongAnswers++;
                if (wrongAnswerSamples.length < 3) wrongAnswerSamples.push(body.slice(0, 600));
              }
            },
          },
        ],
      },
      (error: unknown, result: autocannon.Result) => (error ? reject(error) : resolve(result)),
    );
  });
  const seconds = raw.duration > 0 ? raw.duration : options.durationSeconds;
  return {
    skipped: null,
    load: {
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
      socketErrors: raw.errors - raw.timeouts,
      timeouts: raw.timeouts,
      answers,
      wrongAnswerSamples,
    },
  };
}
