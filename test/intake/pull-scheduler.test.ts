import { createPullScheduler } from '../../src/intake/pull-scheduler';
import type { PullRun } from '../../src/intake/pull-run';
import type { IntakeSettings } from '../../src/store/intake-store';

const HOUR = 3_600_000;

function settings(campaignId: number, lastPullAt: number | null): IntakeSettings {
  return {
    campaignId,
    upload: false,
    email: false,
    pull: {
      protocol: 'ftp',
      host: 'h',
      port: 21,
      directory: '/',
      username: 'u',
      passwordSealed: 'v1:x',
      hostKeySha256: null,
    },
    lastPullAt,
    lastPullError: null,
    lastPullTaken: null,
    updatedAt: 0,
  };
}

describe('pull scheduler', () => {
  it('pulls each campaign never pulled or last tried an interval ago, one at a time, and stops cleanly', async () => {
    const now = 100 * HOUR;
    const ran: number[] = [];
    let finish: () => void = () => undefined;
    const pull: PullRun = {
      run: (s) => {
        ran.push(s.campaignId);
        return new Promise((resolve) => {
          finish = () => resolve({ at: now, taken: [], error: null });
        });
      },
    };
    const scheduler = createPullScheduler({
      campaigns: async () => [settings(1, null), settings(2, now - 25 * HOUR), settings(3, now - HOUR)],
      pull,
      intervalMs: 24 * HOUR,
      logger: { warn: () => undefined },
      now: () => now,
    });
    scheduler.start();
    while (ran.length < 1) await new Promise((resolve) => setImmediate(resolve));
    expect(ran).toEqual([1]);
    finish();
    while (ran.length < 2) await new Promise((resolve) => setImmediate(resolve));
    expect(ran).toEqual([1, 2]);
    const stopped = scheduler.stop();
    finish();
    await stopped;
    expect(ran).toEqual([1, 2]);
  });
});
