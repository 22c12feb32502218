import type { Router } from 'express';
import { normaliseClientIp } from '../auth/ip-address';
import { invalid } from '../http/admin-errors';
import { idParam } from '../http/params';
import { MAX_CAMPAIGN_ID } from '../core/identifier-limits';
import type { RefusalCount } from '../store/refusal-store';
import type { RefusalTally } from './refusal-tally';

const MAX_LIMIT = 1000;
const DEFAULT_LIMIT = 100;

/** A count as JSON. */
export function refusalJson(r: RefusalCount) {
  return {
    door: r.door,
    clientIp: r.clientIp,
    campaignId: r.campaignId,
    message: r.message,
    count: r.count,
    firstAt: new Date(r.firstAt).toISOString(),
    lastAt: new Date(r.lastAt).toISOString(),
  };
}

/** The query of a refusals list (admin API and console alike), or a 400 naming what is wrong. */
export function refusalQueryOf(query: Record<string, unknown>) {
  const { campaignId, clientIp, since, limit } = query;
  let sinceMs: number | undefined;
  if (since !== undefined) {
    sinceMs = typeof since === 'string' && /^\d{4}-\d{2}-\d{2}/.test(since) ? Date.parse(since) : NaN;
    if (Number.isNaN(sinceMs)) throw invalid('since must be an ISO date or time, e.g. 2026-12-05T00:00:00Z');
  }
  let ip: string | undefined;
  if (clientIp !== undefined) {
    if (typeof clientIp !== 'string' || clientIp.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(clientIp))
      throw invalid('clientIp must be an IPv4 or IPv6 address');
    ip = normaliseClientIp(clientIp);
  }
  return {
    campaignIds: campaignId === undefined ? undefined : [idParam(campaignId, 'campaignId', MAX_CAMPAIGN_ID)],
    clientIp: ip,
    since: sinceMs,
    limit: limit === undefined ? DEFAULT_LIMIT : idParam(limit, 'limit', MAX_LIMIT),
  };
}

/** `GET /refusals`: what /transaction.edit refused, per client address, campaign and message. */
export function refusalRoutes(deps: { refusals: RefusalTally }) {
  return (router: Router): void => {
    router.get('/refusals', async (req, res) => {
      const counts = await deps.refusals.list(refusalQueryOf(req.query as Record<string, unknown>));
      res.json(counts.map(refusalJson));
    });
  };
}
