/**
 * The floor: the leanest server that does the database work of one successful /transaction.edit —
 * node:http, no framework, and mysql2 prepared statements on a pooled connection:
 * `START TRANSACTION`, `SELECT … FOR UPDATE` by primary key, `UPDATE`, history `INSERT`, `COMMIT` —
 * answering a fixed XML body. Whatever the real server does beyond this is what it costs over the floor.
 *
 * `/server-statements/transaction.edit` (the opt-in `floor-full` scenario) sends, still prepared and
 * without a framework, the nine statements the real server sends per edit today (edit-statements.ts),
 * separating the cost of round trips from the cost of the Node stack above them.
 *
 * Run by bench/run.ts as its own process: `node dist/bench/floor-server.js` with FLOOR_PORT,
 * FLOOR_MYSQL_URL and FLOOR_POOL_MAX. No checks at all: it exists only to be measured.
 */
import http from 'node:http';
import mysql from 'mysql2/promise';
import { mysqlSession, runEdit } from './edit-statements';

const BODY = Buffer.from(
  '<?xml version="1.0" encoding="UTF-8"?>\n<LinkTrust><ApiResponse action="ModifyTransaction">\n<Succeeded>True</Succeeded>\n' +
    '<SuppliedValues>\n<TransactionId></TransactionId>\n<ClickId></ClickId>\n<MerchantReferenceId></MerchantReferenceId>\n' +
    '<CID></CID>\n<AP></AP>\n<MP></MP>\n<A></A>\n<REASON></REASON>\n</SuppliedValues>\n</ApiResponse></LinkTrust>',
);

function money(text: string | null): number | null {
  return text === null ? null : Math.round(Number(text) * 10_000);
}

function main(): void {
  const pool = mysql.createPool({
    uri: process.env.FLOOR_MYSQL_URL,
    connectionLimit: Number(process.env.FLOOR_POOL_MAX ?? 20),
    supportBigNumbers: true,
    bigNumberStrings: false,
    charset: 'utf8mb4',
  });
  const session = mysqlSession(pool);
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const queryStart = url.indexOf('?');
    const route = queryStart === -1 ? url : url.slice(0, queryStart);
    if (route === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    const serverStatements = route === '/server-statements/transaction.edit';
    if (route !== '/transaction.edit' && !serverStatements) {
      res.writeHead(404).end();
      return;
    }
    const query = new URLSearchParams(queryStart === -1 ? '' : url.slice(queryStart + 1));
    const a = query.get('A');
    const edit = {
      transactionId: Number(query.get('TransactionID')),
      affiliatePayout: money(query.get('AP')),
      merchantRevenue: money(query.get('MP')),
      approved: a === null ? null : a.toLowerCase() === 'yes',
      reason: query.get('REASON'),
      clientIp: req.socket.remoteAddress ?? '',
    };
    runEdit(session, edit, serverStatements ? 'server' : 'minimal').then(
      () => res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': BODY.length }).end(BODY),
      (error: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${error.message}\n`),
    );
  });
  server.keepAliveTimeout = 65_000;
  server.listen(Number(process.env.FLOOR_PORT ?? 0), '127.0.0.1');
  const stop = () => server.close(() => pool.end().finally(() => process.exit(0)));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
