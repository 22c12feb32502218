import type { Services } from '../../src/composition';
import {
  buildAffiliate,
  buildCampaign,
  buildTransaction,
  freshId,
  rollUpToNow,
  twoDaysAgo,
} from '../support/factories';
import { adminRequest } from '../support/test-server';
import { consoleClient } from '../console/console-client';

/** The password every scene's merchant user chooses. */
export const MERCHANT_PASSWORD = 'correct horse battery';

/** Chooses a password on a one-time link, as the person would: GET the form, POST it with its cookie. */
export async function choosePassword(link: string, password: string, again = password) {
  const form = await fetch(link, { redirect: 'manual' });
  const body = await form.text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(body)?.[1] ?? '';
  const cookie = (form.headers.getSetCookie()[0] ?? '').split(';')[0];
  const answer = await fetch(link, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: new URLSearchParams({ _csrf: csrf, password, again }).toString(),
    redirect: 'manual',
  });
  return {
    formStatus: form.status,
    formBody: body,
    status: answer.status,
    location: answer.headers.get('location'),
    body: await answer.text(),
  };
}

/** How a scene's merchants are made: Acme's self-service switch, its users' addresses, the name they sign in with. */
export interface SceneOptions {
  selfService?: boolean;
  emailOf?: (label: string, campaignId: number) => string;
  signInName?: (email: string) => string;
}

/**
 * Two merchants (Acme, Globex), each owning a campaign (external modification allowed) with a transaction
 * two days old (rolled up), and a user signed in to the console over plain HTTP. `selfService` is Acme's switch.
 */
export async function twoMerchants(baseUrl: string, services: Services, options: SceneOptions = {}) {
  const api = (method: string, path: string, body?: unknown) => adminRequest(baseUrl, method, path, body);
  const affiliate = await buildAffiliate(services, { name: 'Shared Affiliate' });
  const scene = [];
  for (const label of ['Acme', 'Globex']) {
    const campaign = await buildCampaign(services, { allowExternalModification: true });
    const transaction = await buildTransaction(services, campaign, affiliate, { occurredAt: twoDaysAgo() });
    const merchant = await api('POST', '/merchants', {
      name: `${label} ${campaign.id}`,
      campaignIds: [campaign.id],
      selfService: label === 'Acme' && (options.selfService ?? false),
    });
    if (merchant.status !== 201) throw new Error(`merchant not created: ${merchant.status}`);
    const email = options.emailOf?.(label, campaign.id) ?? `ops-${campaign.id}@${label.toLowerCase()}.example`;
    const user = await api('POST', `/merchants/${merchant.body.id}/users`, { email, name: `${label} Ops` });
    if ((await choosePassword(user.body.setPasswordUrl, MERCHANT_PASSWORD)).status !== 303)
      throw new Error('password not chosen');
    const name = options.signInName?.(email) ?? email;
    const client = await consoleClient(baseUrl, { name, secret: MERCHANT_PASSWORD });
    scene.push({ campaign, transaction, merchant: merchant.body, user: user.body.user, email, client });
  }
  await rollUpToNow(services);
  return scene;
}

/**
 * An impact.com action of `campaignId` on a new event type `eventTypeId` (sale 100.00, payout 10 %, the
 * reversing code CHARGEBACK), two days old and rolled up.
 */
export async function impactActionOf(baseUrl: string, services: Services, campaignId: number, eventTypeId: number) {
  const api = (method: string, path: string, body?: unknown) => adminRequest(baseUrl, method, path, body);
  const eventType = await api('POST', '/event-types', {
    id: eventTypeId,
    campaignId,
    name: 'Online sale',
    payout: { type: 'percent', value: '10' },
    dispositionCodes: [{ code: 'CHARGEBACK', effect: 'reverse' }],
  });
  if (eventType.status !== 201) throw new Error(`event type not created: ${eventType.status}`);
  const created = await api('POST', '/transactions', {
    campaignId,
    affiliateId: (await buildAffiliate(services)).id,
    actionId: `2000.${freshId()}`,
    eventTypeId: eventType.body.id,
    merchantRevenue: '100.00',
    affiliatePayout: '10.00',
    approved: false,
    occurredAt: new Date(twoDaysAgo()).toISOString(),
  });
  if (created.status !== 201) throw new Error(`action not created: ${created.status}`);
  await rollUpToNow(services);
  return created.body as { id: number; actionId: string };
}
