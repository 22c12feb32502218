import type { IntakeService } from '../intake/intake-service';
import type { NextFunction, Request, Response } from 'express';
import { AdminError } from '../http/admin-errors';
import { html } from './html';
import type { AdminService } from '../admin/admin-service';
import type { HandEditService } from '../admin/hand-edit-service';
import type { MerchantUserService } from '../merchants/merchant-user-service';
import type { MerchantCampaigns } from '../merchants/merchant-campaigns';
import type { SignedInSession } from './console-auth';
import type { ApiAccountService } from '../impact-api/api-account-service';
import type { BatchService } from '../batch/batch-service';
import type { RefusalTally } from '../refusals/refusal-tally';
import type { DashboardService } from '../reports/dashboard-service';
import type { EventTypeService } from '../event-types/event-type-service';
import type { Logger } from '../logger';
import type { ProcessingService } from '../processing/processing-service';
import type { PostbackService } from '../postbacks/postback-service';
import type { ConsoleActor, ConsoleAuditLog } from './console-audit';
import type { ConsoleAuth } from './console-auth';
import { AssetUrls, PageOptions, PageSession, renderPage } from './views/layout';
import type { ApiReferenceDocument } from './views/api-reference-view';

/** Everything the console's routes use; built from the services by `consoleRouter`. */
export interface ConsoleContext {
  auth: ConsoleAuth;
  audit: ConsoleAuditLog;
  admin: AdminService;
  /** Amendments by hand (the transaction page's form). */
  handEdits: HandEditService;
  /** Merchant users (their one-time links). */
  merchantUsers: MerchantUserService;
  /** A merchant user's own campaigns (read, and self-service changes). */
  merchantCampaigns: MerchantCampaigns;
  /** impact.com API accounts (the API accounts page). */
  apiAccounts: ApiAccountService;
  eventTypes: EventTypeService;
  postbacks: PostbackService;
  processing: ProcessingService;
  batches: BatchService;
  refusals: RefusalTally;
  /** The landing page's figures. */
  dashboard: DashboardService;
  intake: IntakeService;
  maxUploadBytes: number;
  logger: Logger;
  assets: AssetUrls;
  /** The admin API's OpenAPI document (the API reference page renders it). */
  apiDocument: () => ApiReferenceDocument;
}

/** The signed-in session of a request that passed `requireSession`. */
export function sessionOf(res: Response): SignedInSession {
  const session = res.locals.consoleSession as SignedInSession | undefined;
  if (!session) throw new Error('console route reached without a session');
  return session;
}

/**
 * The campaigns a request may see: null for a network admin (all), else the ids its merchant owns now (read
 * on every request, so a campaign given or taken away counts at once).
 */
export async function campaignScopeOf(res: Response, context: ConsoleContext): Promise<ReadonlySet<number> | null> {
  const { merchantId } = sessionOf(res);
  if (merchantId === null) return null;
  return new Set(await context.merchantCampaigns.campaignIdsOf(merchantId));
}

/** Who is acting, for the audit log. */
export function actorOf(req: Request, res: Response): ConsoleActor {
  return { actor: sessionOf(res).actor, clientIp: req.clientIp || null, requestId: req.id ?? null };
}

/** What a page shows of the request's session (the header, form tokens, a merchant's narrower view). */
export function pageSessionOf(res: Response): PageSession {
  const session = sessionOf(res);
  return { actor: session.actor, csrfToken: session.csrfToken, merchant: session.merchantId !== null };
}

/** Sends a signed-in page. */
export function sendPage(
  req: Request,
  res: Response,
  context: ConsoleContext,
  options: Omit<PageOptions, 'assets' | 'session'>,
  status = 200,
): void {
  res
    .status(status)
    .type('text/html; charset=utf-8')
    .send(
      renderPage({
        ...options,
        assets: context.assets,
        session: pageSessionOf(res),
      }),
    );
}

/** 303 See Other: after a successful POST, so a reload does not submit it again. */
export function seeOther(res: Response, location: string): void {
  res.redirect(303, location);
}

/** Wraps an async handler so a rejection reaches the error handler. */
export function route(handler: (req: Request, res: Response) => Promise<void>) {
  return (req: Request, res: Response, next: NextFunction): void => {
    handler(req, res).catch(next);
  };
}

/** A positive integer path parameter, or null (the route answers 404). */
export function idFrom(value: unknown): number | null {
  const text = String(value ?? '');
  if (!/^\d{1,15}$/.test(text)) return null;
  const id = Number(text);
  return id >= 1 ? id : null;
}

/** A string form field ('' when absent or not a string). */
export function field(body: unknown, name: string): string {
  const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value : '';
}

/**
 * The words of an admin refusal a person can act on (a 4xx) for a form's problems; anything else (a bug,
 * passing database trouble) is rethrown for the error page.
 */
export function problemOf(error: unknown): string {
  if (error instanceof AdminError && error.status < 500) return error.message;
  throw error;
}

/** What is wrong with a typed name (`missing`: the sentence for an empty one); names are at most 255 characters. */
export function nameProblems(name: string, missing: string): string[] {
  if (name === '') return [missing];
  return name.length > 255 ? ['The name is longer than 255 characters.'] : [];
}

/** Fixed confirmations shown after a redirect (`?done=`); never text from the request. */
export const NOTICES: Record<string, string> = {
  'signed-out': 'You are signed out.',
  settings: 'Campaign settings saved.',
  'campaign-created':
    'Campaign created. Set its password and turn on external modifications when the merchant is ready.',
  'campaign-renamed': 'Campaign renamed.',
  'affiliate-created': 'Affiliate created.',
  'affiliate-saved': 'Affiliate saved.',
  password:
    'Password set. It is not shown again: give it now, through a secure channel, to whoever sets up the CRM’s posting URLs.',
  'whitelist-added': 'White-list entry added.',
  'whitelist-removed': 'White-list entry removed.',
  'api-account-revoked': 'API account revoked: its token no longer signs in.',
  amended: 'The transaction is amended; the history below shows the change with your name.',
  retried: 'The postback is queued for a new attempt; the attempts already made stay listed below as they ended.',
  uploaded: 'File uploaded. Its rows are applied in the background; this table updates by itself.',
  'event-type-created': 'Event type created.',
  'event-type-saved': 'Event type saved.',
  duplicate:
    'This file was uploaded before: it is recorded as a duplicate and NOT applied. Tick "Apply even if uploaded before" to apply it again.',
};

/** The notice for a `?done=` code, or null. */
export function noticeFor(req: Request): string | null {
  const code = req.query.done;
  return typeof code === 'string' && Object.hasOwn(NOTICES, code) ? NOTICES[code] : null;
}

/** What a page about one thing shows when its id names nothing. */
export interface NotFoundPage {
  title: string;
  section: NonNullable<PageOptions['section']>;
  /** One sentence, e.g. `There is no campaign with this CID.` */
  message: string;
  /** The list to go back to: address and link text. */
  back: [string, string];
}

/**
 * The thing a page's `:id` names, loaded by `load` (whose 404 `AdminError` means missing), or null once its
 * 404 page is sent: a malformed id answers exactly as an unknown one.
 */
export async function foundOr404<T>(
  req: Request,
  res: Response,
  context: ConsoleContext,
  load: (id: number) => Promise<T>,
  page: NotFoundPage,
): Promise<T | null> {
  const id = idFrom(req.params.id);
  const found =
    id === null
      ? null
      : await load(id).catch((error) =>
          error instanceof AdminError && error.status === 404 ? null : Promise.reject(error),
        );
  if (found === null) {
    const body = html`<section class="card"><p>${page.message}</p><p><a href="${page.back[0]}">${page.back[1]}</a></p></section>`;
    sendPage(req, res, context, { title: page.title, section: page.section, body }, 404);
  }
  return found;
}
