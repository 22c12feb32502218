import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { RequestListener } from 'node:http';
import express from 'express';
import { capConnectionsPerClient, type ConnectionLimits, type RefusedConnection } from './connection-limits';

/** The HTTP or HTTPS server, and how to reload its certificate. */
export interface Listener {
  server: http.Server | https.Server;
  protocol: 'http' | 'https';
  /** Re-reads the certificate and key files (SIGHUP); new connections use them, open ones keep theirs. */
  reloadTls(): void;
}

/** What else a listener needs to know: the proxies it may trust, and who hears of refused connections. */
export interface ListenerOptions {
  /** TRUST_PROXY: a peer it trusts is a proxy, whose connections are not capped per address. */
  trustProxy?: boolean | number | string;
  onRefused?: (refused: RefusedConnection) => void;
}

/**
 * Plain HTTP, or HTTPS when a certificate and key are configured (TLS_CERT_FILE/TLS_KEY_FILE), so a
 * small deployment can serve LinkTrust's recommended HTTPS without a proxy in front. Slow or excess
 * connections are bounded by `limits` (HTTP_HEADERS_TIMEOUT_MS, HTTP_MAX_CONNECTIONS, …).
 */
export function createListener(
  app: RequestListener,
  tls: { certFile: string | null; keyFile: string | null },
  limits: ConnectionLimits,
  options: ListenerOptions = {},
): Listener {
  const { certFile, keyFile } = tls;
  const serverOptions = {
    // Request line plus headers are capped at 32 KiB (431 from Node past that); /transaction.edit itself
    // refuses URLs over 24 KiB with 414, which leaves room for LinkTrust's long GET calls (10 KB REASONs).
    maxHeaderSize: 32 * 1024,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    // Node looks for connections past those timeouts only this often (30 s by default, which would let a
    // slow sender hold its connection half a minute longer); the sweep visits only unfinished requests.
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
  };
  let listener: Listener;
  if (!certFile || !keyFile) {
    listener = { server: http.createServer(serverOptions, app), protocol: 'http', reloadTls: () => undefined };
  } else {
    const read = () => ({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) });
    // A connection that never finishes its TLS handshake is as slow as one that never finishes its headers.
    const server = https.createServer({ ...serverOptions, handshakeTimeout: limits.headersTimeoutMs, ...read() }, app);
    listener = { server, protocol: 'https', reloadTls: () => server.setSecureContext(read()) };
  }
  // Node closes a connection past maxConnections as soon as it is accepted (and emits 'drop').
  listener.server.maxConnections = limits.maxConnections;
  const trust = trustedPeer(options.trustProxy ?? false);
  capConnectionsPerClient(listener.server, limits.maxConnectionsPerClient, {
    exempt: (address) => trust(address, 0),
    onRefused: options.onRefused ?? (() => undefined),
  });
  return listener;
}

/** express's own compiled `trust proxy` function for a TRUST_PROXY value. */
function trustedPeer(trustProxy: boolean | number | string): (address: string, hop: number) => boolean {
  return express().set('trust proxy', trustProxy).get('trust proxy fn') as (address: string, hop: number) => boolean;
}

/** Why a server could not listen, in one line: `txedit: cannot listen on HOST:PORT: …`. */
export class ListenError extends Error {}

const LISTEN_PROBLEMS: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'address not available on this host',
  ENOTFOUND: 'unknown host name',
  EAI_AGAIN: 'host name lookup failed',
};

/** Listens on `host`:`port`; a failure (a busy port, a foreign address…) rejects with a ListenError. */
export function listen(server: http.Server | https.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => {
      const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
      const problem = (error.code && LISTEN_PROBLEMS[error.code]) || error.message;
      reject(new ListenError(`cannot listen on ${where}: ${problem}`));
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}
