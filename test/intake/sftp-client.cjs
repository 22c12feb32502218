// An SFTP client in a process of its own (ssh2), as a brand's script would be: the merchant SFTP intake
// test runs it so that the upload crosses processes as a real one does. Usage: node sftp-client.cjs '<job JSON>'.
// Prints one JSON line: the outcome of the log-in and of each action.
const { Client } = require('ssh2');

/** A callback-style SFTP call as a promise. */
const call = (run) => new Promise((resolve, reject) => run((error, value) => (error ? reject(error) : resolve(value))));

async function run(sftp, action) {
  switch (action.op) {
    case 'put':
      await call((done) => sftp.writeFile(action.name, Buffer.from(action.content), done));
      return null;
    case 'list':
      return (await call((done) => sftp.readdir(action.path, done))).map((file) => file.filename);
    default:
      throw new Error(`unknown action ${action.op}`);
  }
}

/** Connects and opens the SFTP subsystem; rejects with the client's error (a refused log-in among them). */
function connect(job) {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.once('error', reject);
    client.once('ready', () => client.sftp((error, sftp) => (error ? reject(error) : resolve({ client, sftp }))));
    client.connect({
      host: job.host,
      port: job.port,
      username: job.user,
      password: job.password,
      readyTimeout: 15000,
      // The intake's host key is generated per test directory: nothing to pin it against here.
      hostVerifier: () => true,
    });
  });
}

async function main() {
  const job = JSON.parse(process.argv[2]);
  const results = [];
  let session = null;
  try {
    session = await connect(job);
    results.push({ op: 'login', ok: true });
    for (const action of job.actions) {
      try {
        results.push({ op: action.op, ok: true, result: await run(session.sftp, action) });
      } catch (error) {
        results.push({ op: action.op, ok: false, code: error.code, message: error.message });
      }
    }
  } catch (error) {
    results.push({ op: 'login', ok: false, code: error.level, message: error.message });
  }
  if (session) session.client.end();
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

main();
