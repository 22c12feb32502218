import { html, SafeHtml } from '../html';

/** The console's sections, in menu order. */
export type Section =
  | 'dashboard'
  | 'reports'
  | 'campaigns'
  | 'affiliates'
  | 'event-types'
  | 'whitelist'
  | 'api-accounts'
  | 'transactions'
  | 'batches'
  | 'refusals'
  | 'processing'
  | 'audit'
  | 'api';

const MENU: Array<[Section, string, string]> = [
  ['dashboard', 'Dashboard', '/admin/'],
  ['campaigns', 'Campaigns', '/admin/campaigns'],
  ['affiliates', 'Affiliates', '/admin/affiliates'],
  ['event-types', 'Event types', '/admin/event-types'],
  ['whitelist', 'White-listed IPs', '/admin/whitelist'],
  ['api-accounts', 'API accounts', '/admin/api-accounts'],
  ['transactions', 'Transactions', '/admin/transactions'],
  ['batches', 'Batches', '/admin/batches'],
  ['reports', 'Reports', '/admin/reports'],
  ['refusals', 'Refusals', '/admin/refusals'],
  ['processing', 'Processing', '/admin/processing'],
  ['audit', 'Audit log', '/admin/audit'],
  ['api', 'API reference', '/admin/api'],
];

/** The console's icon, inline (no request; the CSP allows data: images): a pencil on the header's navy. */
const FAVICON =
  'data:image/svg+xml,' +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#14213d"/>' +
      '<path d="M8 24l2-6 10-10 4 4-10 10z" fill="#fca311"/><path d="M8 24l2-6 4 4z" fill="#fff"/></svg>',
  );

/** URLs of the hashed static files (set by the router). */
export interface AssetUrls {
  css: string;
  js: string;
  /** Chart.js (its UMD build from node_modules), loaded only by pages with charts. */
  chart: string;
}

/** What every signed-in page shows in its header. */
export interface PageSession {
  actor: string;
  csrfToken: string;
  /** A merchant user's session: the menu shows only what a merchant may open. */
  merchant?: boolean;
}

/** The sections a merchant user's session may open (every other console address answers 404 to it). */
export const MERCHANT_SECTIONS: ReadonlySet<Section> = new Set<Section>([
  'transactions',
  'campaigns',
  'reports',
  'refusals',
  'batches',
]);

/** One page of the console. */
export interface PageOptions {
  title: string;
  assets: AssetUrls;
  session?: PageSession;
  section?: Section;
  /** A one-line confirmation of what just happened. */
  notice?: string | null;
  /** Problems with what was submitted, shown above the content. */
  problems?: string[];
  body: SafeHtml;
  /** Loads Chart.js before the console's script, which draws the page's charts. */
  charts?: boolean;
}

/** A hidden CSRF field for a form. */
export function csrfField(session: PageSession): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${session.csrfToken}">`;
}

function header(options: PageOptions): SafeHtml {
  const { session, section } = options;
  if (!session)
    return html`<header class="top"><div class="bar"><span class="brand">txedit console</span></div></header>`;
  const items = MENU.filter(([key]) => !session.merchant || MERCHANT_SECTIONS.has(key)).map(
    ([key, label, href]) =>
      html`<li><a href="${href}"${key === section ? html` aria-current="page"` : ''}>${label}</a></li>`,
  );
  return html`<header class="top"><div class="bar">
  <a class="brand" href="/admin/">txedit console</a>
  <div class="who"><span>Signed in as <strong>${session.actor}</strong></span>
    <form method="post" action="/admin/sign-out">${csrfField(session)}<button type="submit" class="small">Sign out</button></form>
  </div>
  <nav aria-label="Console sections"><ul>${items}</ul></nav>
</div></header>`;
}

/** A whole HTML document around a page body. */
export function renderPage(options: PageOptions): string {
  const problems = options.problems?.length
    ? html`<div class="problem" role="alert" id="problems"><strong>${options.problems.length === 1 ? 'There is a problem' : 'There are problems'}</strong><ul>${options.problems.map((p) => html`<li>${p}</li>`)}</ul></div>`
    : '';
  const notice = options.notice ? html`<div class="notice" role="status">${options.notice}</div>` : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${options.title} · txedit console</title>
<link rel="stylesheet" href="${options.assets.css}">
<link rel="icon" href="${FAVICON}">
${options.charts ? html`<script src="${options.assets.chart}" defer></script>\n` : ''}<script src="${options.assets.js}" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
${header(options)}
<main id="main" tabindex="-1">
<h1>${options.title}</h1>
${problems}${notice}
${options.body}
<p id="live-status" class="visually-hidden" aria-live="polite"></p>
</main>
</body>
</html>
`.value;
}
