/**
 * The seeded data set, shared by the seeder, the load generators and the bulk file, so that every
 * request the benchmark sends knows in advance what the server must answer.
 *
 * Transaction ids are 1..N; transaction `id` belongs to campaign `campaignOf(id)` (ids cycle through
 * the campaigns) and affiliate `affiliateOf(id)`. Campaigns 1–8 carry the success path, campaign 9 is
 * the target of wrong-password floods, campaign 10 receives the bulk upload: the three never share a
 * campaign, so per-campaign limits of one cannot bleed into another's figures.
 */
export const CAMPAIGN_COUNT = 10;
/** Campaigns the success path edits. */
export const SUCCESS_CAMPAIGNS = [1, 2, 3, 4, 5, 6, 7, 8] as const;
/** The campaign wrong passwords are aimed at. */
export const FLOOD_CAMPAIGN = 9;
/** The campaign whose transactions the bulk file modifies. */
export const BULK_CAMPAIGN = 10;
/** The event type (ActionTrackerId) of the bulk campaign's actions. */
export const BULK_EVENT_TYPE = 9001;
/** Affiliates the transactions are spread over. */
export const AFFILIATE_COUNT = 20;

/**
 * Client addresses of failing traffic (wrong password, unknown transaction), sent as X-Forwarded-For to
 * a server that trusts loopback proxies: an attacker is not the merchant, so per-IP limits must not
 * confuse the two. Each failing scenario has its own address, so it starts with a fresh per-IP counter
 * (the per-campaign counter of the flood campaign carries over, as it would). Success traffic comes
 * from 127.0.0.1 itself.
 */
export const ATTACKER_IPS = {
  flood: '203.0.113.66',
  wrongPassword: '203.0.113.67',
  unknown: '203.0.113.68',
  mixed: '203.0.113.69',
} as const;

/**
 * The `i`th address of the many-address flood: 127.1.0.1, 127.1.0.2, … — loopback only (sent as
 * X-Forwarded-For to a server that trusts loopback proxies), never 127.0.0.1, the merchant's own.
 */
export function floodAddress(i: number): string {
  const n = i + 1;
  return `127.${1 + (Math.floor(n / 65_536) % 254)}.${Math.floor(n / 256) % 256}.${n % 256}`;
}

/** The campaign of a seeded transaction. */
export function campaignOf(transactionId: number): number {
  return 1 + ((transactionId - 1) % CAMPAIGN_COUNT);
}

/** The affiliate of a seeded transaction. */
export function affiliateOf(transactionId: number): number {
  return 1 + (Math.floor((transactionId - 1) / CAMPAIGN_COUNT) % AFFILIATE_COUNT);
}

/** The (valid) password of a seeded campaign. */
export function passwordOf(campaignId: number): string {
  return `bench-password-${campaignId}`;
}

/** Rounds a requested transaction count to whole rounds of the campaigns. */
export function roundTransactionCount(requested: number): number {
  return Math.max(CAMPAIGN_COUNT, Math.round(requested / CAMPAIGN_COUNT) * CAMPAIGN_COUNT);
}

function randomInt(below: number): number {
  return Math.floor(Math.random() * below);
}

/** A random transaction id of one of `campaigns` (each campaign has total/CAMPAIGN_COUNT of them). */
export function randomTransactionOf(total: number, campaigns: readonly number[]): number {
  const round = randomInt(total / CAMPAIGN_COUNT);
  return round * CAMPAIGN_COUNT + campaigns[randomInt(campaigns.length)];
}

/** A random amount with 2 fraction digits, as carts send them. */
export function randomAmount(maxWhole: number): string {
  return `${randomInt(maxWhole)}.${String(randomInt(100)).padStart(2, '0')}`;
}

/** What a request of the benchmark must be answered with. */
export type Expectation = 'succeeded' | 'unauthorized' | 'invalid_transaction';

/** One request the load generator sends. */
export interface EditRequest {
  path: string;
  headers?: Record<string, string>;
  expect: Expectation;
}

/** A valid edit (password right, AP/MP/A change) of a random transaction of `campaigns`. */
export function successRequest(total: number, campaigns: readonly number[] = SUCCESS_CAMPAIGNS): EditRequest {
  const id = randomTransactionOf(total, campaigns);
  return {
    path:
      `/transaction.edit?Password=${passwordOf(campaignOf(id))}&TransactionID=${id}` +
      `&AP=${randomAmount(50)}&MP=${randomAmount(500)}&A=${Math.random() < 0.9 ? 'yes' : 'no'}&REASON=bench`,
    expect: 'succeeded',
  };
}

/** A wrong password for a random transaction of the flood campaign, from `clientIp`. */
export function wrongPasswordRequest(total: number, clientIp: string): EditRequest {
  const id = randomTransactionOf(total, [FLOOD_CAMPAIGN]);
  return {
    path: `/transaction.edit?Password=guess-${randomInt(1e9)}&TransactionID=${id}&AP=0.00&MP=0.00&A=no&REASON=bench`,
    headers: { 'X-Forwarded-For': clientIp },
    expect: 'unauthorized',
  };
}

/** A well-formed request for a transaction that does not exist, from `clientIp`. */
export function unknownTransactionRequest(total: number, clientIp: string): EditRequest {
  const id = total + 1 + randomInt(1e9);
  return {
    path: `/transaction.edit?Password=${passwordOf(1)}&TransactionID=${id}&AP=1.00&MP=2.00&A=yes&REASON=bench`,
    headers: { 'X-Forwarded-For': clientIp },
    expect: 'invalid_transaction',
  };
}

/** 90 % valid edits, 5 % wrong passwords, 5 % unknown transactions. */
export function mixedRequest(total: number): EditRequest {
  const roll = Math.random();
  if (roll < 0.9) return successRequest(total);
  return roll < 0.95
    ? wrongPasswordRequest(total, ATTACKER_IPS.mixed)
    : unknownTransactionRequest(total, ATTACKER_IPS.mixed);
}

/**
 * The bulk file: tab-delimited, one header row, `rows` modifications cycling through the bulk
 * campaign's transactions (a transaction recurs every total/CAMPAIGN_COUNT rows).
 */
export function bulkFile(total: number, rows: number): string {
  const lines = ['Password\tTransactionID\tAP\tMP\tA\tREASON'];
  const perCampaign = total / CAMPAIGN_COUNT;
  for (let row = 0; row < rows; row++) {
    const id = (row % perCampaign) * CAMPAIGN_COUNT + BULK_CAMPAIGN;
    lines.push(`${passwordOf(BULK_CAMPAIGN)}\t${id}\t${randomAmount(50)}\t${randomAmount(500)}\tyes\tbench bulk`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * The same rows as an impact.com order-level CSV (what a brand sends): ActionId (the transaction id in
 * decimal), the new Amount, a disposition code. Payouts are recalculated by the event type's 10 %.
 */
export function impactBulkFile(total: number, rows: number): string {
  const lines = ['ActionId,Amount,Reason'];
  const perCampaign = total / CAMPAIGN_COUNT;
  for (let row = 0; row < rows; row++) {
    const id = (row % perCampaign) * CAMPAIGN_COUNT + BULK_CAMPAIGN;
    // Never 0.00 (that would reverse the action rather than modify it).
    lines.push(`${id},${1 + randomInt(499)}.${String(randomInt(100)).padStart(2, '0')},ORDER_UPDATE`);
  }
  return `${lines.join('\r\n')}\r\n`;
}
