import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Services } from '../../src/composition';
import { parseImpactResultsCsv } from '../../src/impact/impact-results-csv';
import type { Batch } from '../../src/store/batch-store';
import { auth, csvFile, drainBatches } from '../batch/batch-helpers';
import { buildAffiliate, buildCampaign, freshId, rollUpToNow, twoDaysAgo } from '../support/factories';
import { adminRequest } from '../support/test-server';

let nextEventTypeId = 1_800_000_000 + (process.pid % 1000) * 1000;

/** A temporary directory with a self-signed certificate and key for 127.0.0.1 (openssl, as the HTTPS tests). */
export function temporaryIntakeDir(): { dir: string; cert: string; key: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'txedit-intake-'));
  const cert = path.join(dir, 'tls.crt');
  const key = path.join(dir, 'tls.key');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { dir, cert, key, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Polls until `ready()` holds; the test's own timeout bounds the wait. */
export async function until<T>(ready: () => T | null | undefined | Promise<T | null | undefined>): Promise<T> {
  for (;;) {
    const value = await ready();
    if (value) return value;
    await sleep(20);
  }
}

/**
 * Two campaigns with an impact event type and an action each, a campaign's upload user, and an
 * impact.com file naming both actions: the first row is the campaign's own, the second another's.
 */
export async function intakeScene(services: Services, baseUrl: string, settings: object = {}) {
  const api = (method: string, url: string, body?: unknown) => adminRequest(baseUrl, method, url, body);
  const affiliate = await buildAffiliate(services);
  const actions: string[] = [];
  const campaigns: number[] = [];
  for (let i = 0; i < 2; i++) {
    const campaign = await buildCampaign(services, { uniqueMerchantReference: false });
    const eventType = await api('POST', '/event-types', {
      id: nextEventTypeId++,
      campaignId: campaign.id,
      name: 'Online sale',
      payout: { type: 'percent', value: '10' },
    });
    const action = await api('POST', '/transactions', {
      campaignId: campaign.id,
      affiliateId: affiliate.id,
      actionId: `1000.${freshId()}`,
      eventTypeId: eventType.body.id,
      merchantRevenue: '100.00',
      affiliatePayout: '10.00',
      approved: false,
      occurredAt: new Date(twoDaysAgo()).toISOString(),
    });
    expect(action.status).toBe(201);
    campaigns.push(campaign.id);
    actions.push(action.body.actionId);
  }
  await rollUpToNow(services);
  const [campaignId, otherCampaignId] = campaigns;
  const set = await api('PUT', `/campaigns/${campaignId}/intake`, {
    upload: true,
    email: false,
    pull: null,
    ...settings,
  });
  expect(set.status).toBe(200);
  const credentials = async () => (await api('POST', `/campaigns/${campaignId}/intake/credentials`, {})).body;
  const file = csvFile([
    ['ActionId', 'Amount', 'Reason'],
    [actions[0], '80.00', 'ORDER_UPDATE'],
    [actions[1], '80.00', 'ORDER_UPDATE'],
  ]);
  return { campaignId, otherCampaignId, actions, credentials, file };
}

/**
 * The intake scene with each of its two campaigns owned by a merchant: the first campaign's (`merchantId`)
 * and the other's (`rivalId`). `settings` are the first campaign's intake settings.
 */
export async function merchantIntakeScene(services: Services, baseUrl: string, settings: object = {}) {
  const api = (method: string, url: string, body?: unknown) => adminRequest(baseUrl, method, url, body);
  const scene = await intakeScene(services, baseUrl, settings);
  const own = await api('POST', '/merchants', { name: `Intake ${scene.campaignId}`, campaignIds: [scene.campaignId] });
  const rival = await api('POST', '/merchants', {
    name: `Rival ${scene.otherCampaignId}`,
    campaignIds: [scene.otherCampaignId],
  });
  expect([own.status, rival.status]).toEqual([201, 201]);
  return { ...scene, merchantId: own.body.id as number, rivalId: rival.body.id as number };
}

/** The batches of a campaign, newest first. */
export function batchesOf(services: Services, campaignId: number): Promise<Batch[]> {
  return services.batches.list({ limit: 100, campaignIds: [campaignId] });
}

/** Runs the batch worker and answers each row's [line, status, code] from the batch's results file. */
export async function appliedCodes(services: Services, baseUrl: string, batchId: number) {
  await drainBatches(services);
  const response = await fetch(`${baseUrl}/api/v1/batches/${batchId}/results`, { headers: auth });
  return parseImpactResultsCsv(await response.text()).map((r) => [r.line, r.status, r.code]);
}

/** One action's outcome as the client process reports it. */
export interface ClientStep {
  op: string;
  ok: boolean;
  result?: unknown;
  code?: number | string;
  message?: string;
}

/** Runs test/intake/ftp-client.cjs (basic-ftp) in a separate node process. */
export function ftpClient(job: {
  port: number;
  user: string;
  password: string;
  secure: boolean;
  actions: Array<Record<string, unknown>>;
}): Promise<ClientStep[]> {
  return clientProcess('ftp-client.cjs', job);
}

/** Runs test/intake/sftp-client.cjs (ssh2) in a separate node process. */
export function sftpClient(job: {
  port: number;
  user: string;
  password: string;
  actions: Array<Record<string, unknown>>;
}): Promise<ClientStep[]> {
  return clientProcess('sftp-client.cjs', job);
}

/** Runs one of the client scripts beside this file with a job, and answers the steps it printed. */
function clientProcess(name: string, job: object): Promise<ClientStep[]> {
  const script = path.join(__dirname, name);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [script, JSON.stringify({ host: '127.0.0.1', ...job })],
      { timeout: 25_000 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`${error.message}\n${stderr}`));
        resolve(JSON.parse(stdout.trim()) as ClientStep[]);
      },
    );
  });
}
