import {
  FLOOD_CAMPAIGN,
  SUCCESS_CAMPAIGNS,
  floodAddress,
  passwordOf,
  successRequest,
  wrongPasswordRequest,
} from './bench-data';
import type { ChildServer } from './child-server';
import { Answer, classifyAnswer, LoadResult, startLoad } from './load';

/** Connections of the many-address flood: more than the compare queue (1,000 a priority) plus the compare under way. */
export const MANY_ADDRESS_FLOOD_CONNECTIONS = 1_200;
/** Connections of the honest merchant's edits meanwhile. */
export const HONEST_MERCHANT_CONNECTIONS = 10;
/** How long the flood runs before the merchant's checks: enough to fill the queue at bcrypt cost 12. */
const FILL_WAIT_MS = 1_000;
// bcrypt at cost 12 answers a compare in ≈ 240 ms of a core: queued flood requests wait long.
const FAILURE_TIMEOUT_SECONDS = 60;

/** What the many-address flood came to. */
export interface ManyAddressFloodResult {
  /** Addresses the flood used (one wrong password each). */
  addresses: number;
  /**
   * The honest merchant's checks of passwords no longer cached (re-set since its last check), one after
   * the other during the flood: the flood campaign's, then campaigns 2–8's.
   */
  firstChecks: Array<{ campaign: number; ms: number; answer: Answer | 'timeout' }>;
  /** The honest merchant's edits after them, still during the flood (campaigns 1–9, cached). */
  merchant: LoadResult;
  flood: LoadResult;
}

/**
 * The flood scenario's many-address variant (IPv6 gives an attacker unlimited addresses): `addresses` loopback addresses (127.1.x.y, as
 * X-Forwarded-For), one wrong password each for the flood campaign, over more connections than the
 * compare queue holds, against a server of its own (its leftover queue ends with it). Meanwhile the
 * honest merchant — 127.0.0.1, which edited each of campaigns 1–9 just before the flood (a known client of
 * each), after which each campaign's password was set again (the same password, a new bcrypt hash: the
 * verified-credential cache misses) — checks the passwords of the flood campaign and of campaigns 2–8, one
 * after the other, each an uncached compare, then edits campaigns 1–9 at 10 connections.
 */
export async function runManyAddressFlood(options: {
  server: ChildServer;
  adminToken: string;
  transactions: number;
  addresses: number;
  durationSeconds: number;
}): Promise<ManyAddressFloodResult> {
  const { server, transactions } = options;
  // The merchant passes a check of each campaign before the flood: a known client of each (a success on
  // another campaign buys no place in a campaign's compare queue).
  for (const campaign of [...SUCCESS_CAMPAIGNS, FLOOD_CAMPAIGN]) {
    const warm = await fetch(`${server.baseUrl}${successRequest(transactions, [campaign]).path}`);
    if (classifyAnswer(await warm.text()) !== 'succeeded')
      throw new Error(`the honest merchant’s first edit of campaign ${campaign} did not succeed`);
    // The same password set again: a new hash, so the merchant's next check of it is an uncached compare.
    const reset = await fetch(`${server.baseUrl}/api/v1/campaigns/${campaign}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${options.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ password: passwordOf(campaign) }),
    });
    if (!reset.ok) throw new Error(`PATCH /api/v1/campaigns/${campaign} answered ${reset.status}`);
  }
  let next = 0;
  const flood = startLoad({
    baseUrl: server.baseUrl,
    connections: Math.min(MANY_ADDRESS_FLOOD_CONNECTIONS, options.addresses),
    durationSeconds: options.durationSeconds + FAILURE_TIMEOUT_SECONDS,
    amount: options.addresses,
    next: () => wrongPasswordRequest(transactions, floodAddress(next++)),
    timeoutSeconds: FAILURE_TIMEOUT_SECONDS,
    busyIsRefusal: true,
  });
  try {
    await new Promise((resolve) => setTimeout(resolve, FILL_WAIT_MS));
    const firstChecks: ManyAddressFloodResult['firstChecks'] = [];
    for (const campaign of [FLOOD_CAMPAIGN, ...SUCCESS_CAMPAIGNS.slice(1)]) {
      const started = performance.now();
      const answer = await fetch(`${server.baseUrl}${successRequest(transactions, [campaign]).path}`, {
        signal: AbortSignal.timeout(FAILURE_TIMEOUT_SECONDS * 1000),
      }).then(
        async (response) => classifyAnswer(await response.text()),
        () => 'timeout' as const,
      );
      firstChecks.push({ campaign, ms: performance.now() - started, answer });
    }
    const merchant = await startLoad({
      baseUrl: server.baseUrl,
      connections: HONEST_MERCHANT_CONNECTIONS,
      durationSeconds: options.durationSeconds,
      next: () => successRequest(transactions, [...SUCCESS_CAMPAIGNS, FLOOD_CAMPAIGN]),
    }).result;
    flood.stop();
    return { addresses: Math.min(next, options.addresses), firstChecks, merchant, flood: await flood.result };
  } finally {
    flood.stop();
  }
}
