import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { createApp } from '../../src/app';
import { createListener, Listener } from '../../src/http/listener';
import { createTestDatabase, TestDatabase } from '../support/databases';
import { buildScene } from '../support/factories';
import { editByGet, parseLinkTrustXml } from '../support/linktrust-xml';
import { startTestServer, TestServer } from '../support/test-server';

function selfSignedCertificate(dir: string, name: string) {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
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
      `/CN=${name}`,
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

function httpsGet(port: number, pathAndQuery: string): Promise<{ status: number; body: string; peerCn: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      { host: '127.0.0.1', port, path: pathAndQuery, rejectUnauthorized: false, agent: false },
      (res) => {
        const peer = (res.socket as tls.TLSSocket).getPeerCertificate();
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, peerCn: String(peer.subject?.CN) }));
      },
    );
    req.on('error', reject);
  });
}

describe('HTTPS and REQUIRE_HTTPS (SQLite)', () => {
  let database: TestDatabase;
  let plain: TestServer;
  let dir: string;
  let listener: Listener;
  let port: number;

  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
    plain = await startTestServer(database.db, { REQUIRE_HTTPS: 'true', TRUST_PROXY: 'loopback' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'txedit-tls-'));
    const first = selfSignedCertificate(dir, 'first');
    listener = createListener(
      createApp(plain.services),
      { certFile: first.cert, keyFile: first.key },
      plain.services.config.http,
    );
    await new Promise<void>((resolve) => listener.server.listen(0, '127.0.0.1', resolve));
    port = (listener.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => listener?.server.close(resolve));
    await plain?.close();
    await database?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves /transaction.edit over HTTPS with the configured certificate, and reloads it', async () => {
    const { campaign, transaction } = await buildScene(plain.services);
    const query = `/transaction.edit?Password=${campaign.password}&TransactionID=${transaction.id}&AP=1.00`;
    const first = await httpsGet(port, query);
    expect(first.peerCn).toBe('first');
    expect(parseLinkTrustXml(first.body).succeeded).toBe('True');
    const second = selfSignedCertificate(dir, 'second');
    fs.copyFileSync(second.cert, path.join(dir, 'first.crt'));
    fs.copyFileSync(second.key, path.join(dir, 'first.key'));
    listener.reloadTls();
    expect((await httpsGet(port, '/healthz')).peerCn).toBe('second');
  });

  it('refuses plain HTTP with the credentials answer when REQUIRE_HTTPS is set', async () => {
    const { campaign, transaction } = await buildScene(plain.services);
    const params = { Password: campaign.password as string, TransactionID: String(transaction.id), AP: '3.00' };
    const refused = await editByGet(plain.baseUrl, params);
    expect(refused.answer.error).toEqual({
      type: 'permanent',
      message: 'Permanent failure: Invalid authentication credentials',
    });
    expect(await plain.services.stores.modifications.listForTransaction(transaction.id)).toHaveLength(0);
  });

  it('believes X-Forwarded-Proto only from a trusted proxy', async () => {
    const { campaign, transaction } = await buildScene(plain.services);
    const params = { Password: campaign.password as string, TransactionID: String(transaction.id), AP: '4.00' };
    // The test server trusts loopback, and the request comes from loopback: a TLS-terminating proxy.
    const viaProxy = await editByGet(plain.baseUrl, params, { 'x-forwarded-proto': 'https' });
    expect(viaProxy.answer.succeeded).toBe('True');
    const untrusting = await startTestServer(database.db, { REQUIRE_HTTPS: 'true' });
    try {
      const spoofed = await editByGet(untrusting.baseUrl, params, { 'x-forwarded-proto': 'https' });
      expect(spoofed.answer.error?.message).toBe('Permanent failure: Invalid authentication credentials');
    } finally {
      await untrusting.close();
    }
  });
});
