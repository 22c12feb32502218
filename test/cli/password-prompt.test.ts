import { PassThrough } from 'node:stream';
import type { CliIo } from '../../src/cli/cli-io';
import { readNewPassword } from '../../src/cli/password-prompt';

/** A terminal-like stdin the test types into, and the stderr the prompt writes to. */
function terminal() {
  const stdin = Object.assign(new PassThrough(), {
    isTTY: true,
    rawModes: [] as boolean[],
    setRawMode(mode: boolean) {
      this.rawModes.push(mode);
      return this;
    },
  });
  const stderr = new PassThrough();
  let shown = '';
  stderr.on('data', (chunk) => (shown += String(chunk)));
  const io: CliIo = {
    stdin,
    stderr,
    stdout: new PassThrough(),
    env: {},
    onSignal: () => () => undefined,
    exit: () => undefined,
  };
  // Types each line once the prompt for it has been written.
  const type = async (...lines: string[]) => {
    for (const [index, line] of lines.entries()) {
      while ((shown.match(/: /g) ?? []).length <= index) await new Promise((resolve) => setImmediate(resolve));
      stdin.write(line);
    }
  };
  return { io, stdin, shown: () => shown, type };
}

describe('password prompt on a terminal', () => {
  it('asks twice without echoing, and accepts matching entries (backspace edits)', async () => {
    const t = terminal();
    const [password] = await Promise.all([
      readNewPassword(t.io, { fromStdin: false }),
      t.type('s3cretX\u007f!\r', 's3cret!\r'),
    ]);
    expect(password).toBe('s3cret!');
    expect(t.shown()).toBe('New password: \nType it again: \n');
    expect(t.stdin.rawModes).toEqual([true, false, true, false]);
  });

  it('refuses two entries that differ, and Ctrl-C cancels', async () => {
    const differ = terminal();
    await expect(
      Promise.all([readNewPassword(differ.io, { fromStdin: false }), differ.type('one\r', 'two\r')]),
    ).rejects.toThrow('the two passwords are not the same; nothing was changed');
    const cancel = terminal();
    await expect(
      Promise.all([readNewPassword(cancel.io, { fromStdin: false }), cancel.type('abc\u0003')]),
    ).rejects.toMatchObject({ exitCode: 130 });
    expect(cancel.stdin.rawModes).toEqual([true, false]);
  });

  it('reads the first line of stdin when asked to, even on a terminal', async () => {
    const t = terminal();
    const reading = readNewPassword(t.io, { fromStdin: true });
    t.stdin.end('from-stdin\r\nignored\n');
    expect(await reading).toBe('from-stdin');
    expect(t.shown()).toBe('');
  });
});
