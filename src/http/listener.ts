import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { RequestListener } from 'node:http';

/** The HTTP or HTTPS server, and how to reload its certificate. */
export interface Listener {
  server: http.Server | https.Server;
  protocol: 'http' | 'https';
  /** Re-reads the certificate and key files (SIGHUP); new connections use them, open ones keep theirs. */
  reloadTls(): void;
}

/**
 * Plain HTTP, or HTTPS when a certificate and key are configured (TLS_CERT_FILE/TLS_KEY_FILE), so a
 * small deployment can serve LinkTrust's recommended HTTPS without a proxy in front.
 */
export function createListener(app: RequestListener, tls: { certFile: string | null; keyFile: string | null }): Listener {
  const { certFile, keyFile } = tls;
  // Request line plus headers are capped at 32 KiB (431 from Node past that); /transaction.edit itself
  // refuses URLs over 24 KiB with 414, which leaves room for LinkTrust's long GET calls (10 KB REASONs).
  const options = { maxHeaderSize: 32 * 1024 };
  if (!certFile || !keyFile) {
    return { server: http.createServer(options, app), protocol: 'http', reloadTls: () => undefined };
  }
  const read = () => ({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) });
  const server = https.createServer({ ...options, ...read() }, app);
  return { server, protocol: 'https', reloadTls: () => server.setSecureContext(read()) };
}
