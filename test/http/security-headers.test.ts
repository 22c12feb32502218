import type http from 'node:http';
import express from 'express';
import helmet, { type HelmetOptions } from 'helmet';
import { API_HELMET_OPTIONS } from '../../src/app';
import { helmetHeaderSteps, securityHeaders } from '../../src/http/security-headers';
import { buildScene } from '../support/factories';
import { useTestServer } from '../support/test-server';
import { listenOnLoopback, rawRequest } from './raw-http';

type Middleware = (req: http.IncomingMessage, res: http.ServerResponse, next: () => void) => void;

/** The headers a bare server sends when `middleware` runs before it answers (X-Powered-By set first, as express does). */
async function headersAfter(middleware: Middleware) {
  const server = await listenOnLoopback((req, res) => {
    res.setHeader('X-Powered-By', 'Express');
    middleware(req, res, () => res.end('ok'));
  });
  try {
    return (await rawRequest(server.baseUrl, '/')).headers;
  } finally {
    await server.close();
  }
}

const OPTION_SETS: Array<[string, HelmetOptions]> = [
  ["helmet's defaults", {}],
  ['the API options', API_HELMET_OPTIONS],
  [
    'a policy without defaults, its own referrer and frame options',
    {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: { defaultSrc: ["'none'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:'] },
      },
      referrerPolicy: { policy: 'no-referrer' },
      xFrameOptions: { action: 'deny' },
    },
  ],
  [
    'some headers off, others tuned',
    {
      contentSecurityPolicy: false,
      xPoweredBy: false,
      crossOriginEmbedderPolicy: true,
      strictTransportSecurity: { maxAge: 60, preload: true },
    },
  ],
  ['a report-only policy', { contentSecurityPolicy: { reportOnly: true, directives: { defaultSrc: ["'self'"] } } }],
];

describe('securityHeaders', () => {
  it.each(OPTION_SETS)('sends exactly what helmet sends, in its order, with %s', async (_name, options) => {
    const byHelmet = await headersAfter(helmet(options));
    expect(byHelmet.length).toBeGreaterThan(5);
    expect(await headersAfter(securityHeaders(options))).toEqual(byHelmet);
  });

  it('works the list out once, from helmet itself', () => {
    const steps = helmetHeaderSteps(API_HELMET_OPTIONS);
    expect(steps[0][0]).toBe('Content-Security-Policy');
    expect(steps[0][1]).toContain("default-src 'none'");
    expect(steps[0][1]).toContain("frame-ancestors 'none'");
    expect(steps).toContainEqual(['X-Powered-By', null]);
  });

  it('refuses a policy helmet computes per request, which a list cannot replay', () => {
    const nonce = () => "'nonce-abc'";
    expect(() => securityHeaders({ contentSecurityPolicy: { directives: { scriptSrc: ["'self'", nonce] } } })).toThrow(
      /per-request CSP directives/,
    );
    expect(() =>
      securityHeaders({ contentSecurityPolicy: { directives: { scriptSrc: new Set(["'self'", nonce]) } } }),
    ).toThrow(/per-request CSP directives/);
  });
});

// The app's own answers carry helmet's headers byte for byte: compared with an express app that runs
// helmet() itself with the same options, so the precomputed list cannot drift from helmet silently.
describe('security headers of the app', () => {
  const context = useTestServer('sqlite');
  let helmetHeaders: Array<[string, string]>;

  beforeAll(async () => {
    const reference = express();
    reference.use(helmet(API_HELMET_OPTIONS));
    reference.use((_req, res) => res.end());
    const server = await listenOnLoopback(reference);
    try {
      helmetHeaders = (await rawRequest(server.baseUrl, '/')).headers.filter(([name]) => name !== 'Content-Length');
    } finally {
      await server.close();
    }
  });

  it('leads every /transaction.edit answer (success, failure, GET and POST) with exactly helmet headers', async () => {
    const { campaign, transaction } = await buildScene(context.server.services);
    const answers = [
      await rawRequest(
        context.server.baseUrl,
        `/transaction.edit?Password=${campaign.password}&TransactionID=${transaction.id}&AP=2.00`,
      ),
      await rawRequest(context.server.baseUrl, '/transaction.edit?Password=wrong&TransactionID=1'),
      await rawRequest(context.server.baseUrl, '/transaction.edit', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `Password=${campaign.password}&TransactionID=${transaction.id}&MP=3.00`,
      }),
    ];
    expect(answers[0].body).toContain('<Succeeded>True</Succeeded>');
    expect(answers[1].body).toContain('<Succeeded>False</Succeeded>');
    expect(answers[2].body).toContain('<Succeeded>True</Succeeded>');
    for (const answer of answers) {
      expect(answer.headers.slice(0, helmetHeaders.length)).toEqual(helmetHeaders);
      expect(answer.headers.slice(helmetHeaders.length).map(([name]) => name)).toEqual([
        'X-Request-Id',
        'Content-Type',
        'Content-Length',
      ]);
    }
  });

  it('sends the same headers on the other API answers (health, 405, 404)', async () => {
    for (const [path, method] of [
      ['/healthz', 'GET'],
      ['/transaction.edit', 'PUT'],
      ['/no-such-page', 'GET'],
    ]) {
      const answer = await rawRequest(context.server.baseUrl, path, { method });
      expect(answer.headers.slice(0, helmetHeaders.length)).toEqual(helmetHeaders);
    }
  });
});
