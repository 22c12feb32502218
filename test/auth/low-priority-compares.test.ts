import fs from 'node:fs';
import bcrypt from 'bcrypt';
import { LowPriorityCompares } from '../../src/auth/low-priority-compares';

/** The nice value of a process, from /proc/PID/stat (field 19; the name in field 2 may hold spaces). */
function niceOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

const onLinux = process.platform === 'linux' ? describe : describe.skip;

describe('LowPriorityCompares', () => {
  let hash: string;
  beforeAll(async () => {
    hash = await bcrypt.hash('right', 4);
  });

  it('answers compares with real bcrypt in a separate process, started on first use', async () => {
    const compares = new LowPriorityCompares();
    try {
      expect(compares.pid).toBeUndefined();
      expect(
        await Promise.all([
          compares.compare('right', hash),
          compares.compare('wrong', hash),
          compares.compare('right', hash),
        ]),
      ).toEqual([true, false, true]);
      expect(compares.pid).toEqual(expect.any(Number));
      expect(compares.pid).not.toBe(process.pid);
    } finally {
      await compares.close();
    }
  });

  onLinux('on Linux', () => {
    it('runs at the lowest priority, in a session (and autogroup) of its own, leaving the server’s priority alone', async () => {
      const compares = new LowPriorityCompares();
      try {
        await compares.compare('right', hash);
        const pid = compares.pid as number;
        expect(niceOf(pid)).toBe(19);
        expect(niceOf(process.pid)).toBe(0);
        // Its own session: the autogroup it lowers is not the server's.
        const sessionOf = (of: number) =>
          Number(fs.readFileSync(`/proc/${of}/stat`, 'utf8').split(') ')[1].split(' ')[3]);
        expect(sessionOf(pid)).toBe(pid);
        expect(sessionOf(pid)).not.toBe(sessionOf(process.pid));
        if (fs.existsSync(`/proc/${pid}/autogroup`)) {
          expect(fs.readFileSync(`/proc/${pid}/autogroup`, 'utf8')).toMatch(/ nice 19\s*$/);
          expect(fs.readFileSync(`/proc/${process.pid}/autogroup`, 'utf8')).not.toMatch(/ nice 19\s*$/);
        }
      } finally {
        await compares.close();
      }
    });
  });

  it('finishes the compares under way in-process when the process dies, says so, and tries a new one after a while', async () => {
    let now = 1_000;
    const trouble: string[] = [];
    const compares = new LowPriorityCompares({
      now: () => now,
      retryAfterMs: 5_000,
      onTrouble: (message) => trouble.push(message),
    });
    try {
      const slowHash = await bcrypt.hash('right', 12);
      await compares.compare('wrong', hash);
      const first = compares.pid as number;
      const underWay = [compares.compare('right', slowHash), compares.compare('wrong', slowHash)];
      process.kill(first, 'SIGKILL');
      expect(await Promise.all(underWay)).toEqual([true, false]);
      expect(trouble).toEqual(['the low-priority compare process ended (SIGKILL)']);
      // Within the retry delay: in-process, no new process.
      expect(await compares.compare('right', hash)).toBe(true);
      expect(compares.pid).toBeUndefined();
      now += 5_000;
      expect(await compares.compare('right', hash)).toBe(true);
      expect(compares.pid).toEqual(expect.any(Number));
      expect(compares.pid).not.toBe(first);
    } finally {
      await compares.close();
    }
  });

  it('compares in-process once closed', async () => {
    const compares = new LowPriorityCompares();
    await compares.compare('right', hash);
    const pid = compares.pid as number;
    await compares.close();
    expect(() => process.kill(pid, 0)).toThrow();
    expect(await compares.compare('right', hash)).toBe(true);
    expect(compares.pid).toBeUndefined();
  });
});
