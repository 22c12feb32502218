import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { utils } from 'ssh2';
import { sftpHostKey } from '../../src/intake/sftp-intake';

const parses = (key: string | Buffer) => !(utils.parseKey(key) instanceof Error);

/** One of the ≈ 1 in 256 ed25519 keys ssh2 generates and then cannot read (mscdex/ssh2#1390). */
function unreadableKey(): string {
  for (;;) {
    const pair = utils.generateKeyPairSync('ed25519');
    if (!parses(pair.private) || !parses(pair.public)) return pair.private;
  }
}

describe('the generated SFTP host key', () => {
  const dirs: string[] = [];
  const freshDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'txedit-hostkey-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

  it('is generated once, readable by ssh2, and kept', () => {
    const intakeDir = freshDir();
    const first = sftpHostKey({ intakeDir, hostKeyFile: null });
    expect(parses(first)).toBe(true);
    expect(sftpHostKey({ intakeDir, hostKeyFile: null }).equals(first)).toBe(true);
    expect(fs.statSync(path.join(intakeDir, 'sftp-host-key')).mode & 0o777).toBe(0o600);
  });

  it('replaces a stored key ssh2 cannot read (one no client can have pinned) instead of failing to start', () => {
    const intakeDir = freshDir();
    const bad = unreadableKey();
    fs.writeFileSync(path.join(intakeDir, 'sftp-host-key'), bad, { mode: 0o600 });
    const key = sftpHostKey({ intakeDir, hostKeyFile: null });
    expect(parses(key)).toBe(true);
    expect(key.toString()).not.toBe(bad);
  });
});
