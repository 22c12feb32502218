import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ensureBuilt, runServerToExit } from '../support/spawn-server';

// A port that cannot be had is a configuration problem like any other: one line on stderr, exit 1,
// no stack trace — and nothing done to the database meanwhile.
describe('the production server when it cannot listen', () => {
  let dir: string;
  let holder: net.Server;
  let busyPort: number;
  beforeAll(async () => {
    await ensureBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'txedit-listen-'));
    holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    busyPort = (holder.address() as net.AddressInfo).port;
  }, 300_000);
  afterAll(async () => {
    await new Promise((resolve) => holder?.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('says in one line that the port is in use, exits 1, and leaves the database alone', async () => {
    const file = path.join(dir, 'busy.sqlite');
    const run = await runServerToExit({ PORT: String(busyPort), DATABASE_URL: `sqlite:${file}` });
    expect({ code: run.code, signal: run.signal, stderr: run.stderr }).toEqual({
      code: 1,
      signal: null,
      stderr: `txedit: cannot listen on 127.0.0.1:${busyPort}: address already in use\n`,
    });
    expect(run.stdout).toBe('');
    expect(fs.existsSync(file)).toBe(false);
  });

  it('says so in one line for an address that is not this host’s, too', async () => {
    // 192.0.2.0/24 is documentation space: binding to it fails locally, nothing is sent anywhere.
    const run = await runServerToExit({
      HOST: '192.0.2.1',
      PORT: '0',
      DATABASE_URL: `sqlite:${path.join(dir, 'foreign.sqlite')}`,
    });
    expect({ code: run.code, signal: run.signal, stderr: run.stderr }).toEqual({
      code: 1,
      signal: null,
      stderr: 'txedit: cannot listen on 192.0.2.1:0: address not available on this host\n',
    });
  });
});
