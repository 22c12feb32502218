// An FTP client in a process of its own (basic-ftp), as a brand's script would be: the FTP intake tests
// run it so that explicit TLS is exercised across processes. Usage: node ftp-client.cjs '<job JSON>'.
// Prints one JSON line: the outcome of the log-in and of each action.
const { Readable, Writable } = require('node:stream');
const { Client } = require('basic-ftp');

async function run(client, action) {
  switch (action.op) {
    case 'put':
      await client.uploadFrom(Readable.from([Buffer.from(action.content)]), action.name);
      return null;
    case 'list':
      return (await client.list(action.path)).map((file) => file.name);
    case 'delete':
      await client.remove(action.name);
      return null;
    case 'get':
      await client.downloadTo(new Writable({ write: (_chunk, _encoding, callback) => callback() }), action.name);
      return null;
    case 'raw':
      return (await client.send(action.command)).code;
    case 'abort':
      // Sends the first bytes of a file, then cuts the data connection with a reset and leaves.
      await new Promise((resolve) => {
        let sent = false;
        const source = new Readable({
          read() {
            if (!sent) {
              sent = true;
              this.push(Buffer.from(action.content));
              return;
            }
            // Once the first bytes are out: a TLS socket's own reset would still close cleanly, so the
            // TCP sockets beneath are reset.
            setImmediate(() => {
              for (const socket of [client.ftp.dataSocket, client.ftp.socket])
                if (socket) (socket._parent ?? socket).resetAndDestroy();
              resolve();
            });
          },
        });
        client.uploadFrom(source, action.name).catch(() => resolve());
      });
      return null;
    default:
      throw new Error(`unknown action ${action.op}`);
  }
}

async function main() {
  const job = JSON.parse(process.argv[2]);
  const client = new Client(15000);
  const results = [];
  try {
    await client.access({
      host: job.host,
      port: job.port,
      user: job.user,
      password: job.password,
      secure: job.secure,
      secureOptions: { rejectUnauthorized: false },
    });
    results.push({ op: 'login', ok: true });
    for (const action of job.actions) {
      try {
        results.push({ op: action.op, ok: true, result: await run(client, action) });
      } catch (error) {
        results.push({ op: action.op, ok: false, code: error.code, message: error.message });
        if (client.closed) break;
      }
    }
  } catch (error) {
    results.push({ op: 'login', ok: false, code: error.code, message: error.message });
  }
  client.close();
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

main();
