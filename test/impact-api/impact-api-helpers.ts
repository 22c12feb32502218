import type { Services } from '../../src/composition';
import { buildAffiliate, buildCampaign, freshId, twoDaysAgo } from '../support/factories';
import { TEST_ADMIN_TOKEN } from '../support/test-server';

const adminAuth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
// Event type ids of their own: other files' tests share the database.
let nextEventTypeId = 1_700_000_000 + (process.pid % 1000) * 1000;

/** A call to the admin API. */
export async function admin(baseUrl: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${baseUrl}/api/v1${path}`, {
    method,
    headers: { ...adminAuth, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as any };
}

/** An API account for the campaigns: its SID and token. */
export async function createAccount(baseUrl: string, campaignIds: number[], name = 'Brand client') {
  const created = await admin(baseUrl, 'POST', '/api-accounts', { name, campaignIds });
  expect(created.status).toBe(201);
  return created.body as { accountSid: string; authToken: string };
}

/** HTTP Basic credentials of an account. */
export function basic(account: { accountSid: string; authToken: string }) {
  return `Basic ${Buffer.from(`${account.accountSid}:${account.authToken}`).toString('base64')}`;
}

/** A call to impact.com's API: form parameters by default, JSON with `json`. */
export async function impactCall(
  baseUrl: string,
  method: string,
  path: string,
  options: {
    account?: { accountSid: string; authToken: string };
    authorization?: string;
    form?: Record<string, string>;
    json?: unknown;
    accept?: string;
    headers?: Record<string, string>;
  } = {},
) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.account) headers.authorization = basic(options.account);
  if (options.authorization) headers.authorization = options.authorization;
  if (options.accept) headers.accept = options.accept;
  let body: string | undefined;
  if (options.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  } else if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  const isJson = (response.headers.get('content-type') ?? '').includes('json');
  return { status: response.status, headers: response.headers, text, body: (isJson ? JSON.parse(text) : null) as any };
}

/** A campaign with an affiliate and a percent (10 %) event type, and a maker of its actions. */
export async function impactScene(services: Services, baseUrl: string) {
  const campaign = await buildCampaign(services, { uniqueMerchantReference: false });
  const affiliate = await buildAffiliate(services);
  const eventType = await admin(baseUrl, 'POST', '/event-types', {
    id: nextEventTypeId++,
    campaignId: campaign.id,
    name: 'Online sale',
    payout: { type: 'percent', value: '10' },
    dispositionCodes: [{ code: 'Store_Credit', effect: 'modify' }],
  });
  expect(eventType.status).toBe(201);
  const action = async (fields: Record<string, unknown> = {}) => {
    const created = await admin(baseUrl, 'POST', '/transactions', {
      campaignId: campaign.id,
      affiliateId: affiliate.id,
      actionId: `1000.${freshId()}`,
      eventTypeId: eventType.body.id,
      merchantRevenue: '100.00',
      affiliatePayout: '10.00',
      approved: false,
      occurredAt: new Date(twoDaysAgo()).toISOString(),
      merchantReferenceId: `ORD-${freshId()}`,
      ...fields,
    });
    expect(created.status).toBe(201);
    return created.body as { id: number; actionId: string; merchantReferenceId: string };
  };
  return { campaign, affiliate, eventTypeId: eventType.body.id as number, action };
}
