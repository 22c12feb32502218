import { MemoryFailureLimiter } from '../../src/auth/failure-limiter';
import { FailureBrake } from '../../src/modification/failure-brake';

describe('FailureBrake', () => {
  let now = 5_000_000;
  const brake = (brakedChecksPerMinute?: number) =>
    new FailureBrake({
      limiter: new MemoryFailureLimiter(900_000, () => now),
      ipFailures: 10,
      campaignFailures: 100,
      brakedChecksPerMinute,
    });

  it('gives a braked campaign one check per 60 / brakedChecksPerMinute seconds, answering the rest rate limited with the seconds to wait', async () => {
    const limits = brake(2);
    expect(await limits.campaignTurn(7)).toBeNull();
    expect(await limits.campaignTurn(7)).toEqual({
      kind: 'temporary_failure',
      failureType: 'rate limited',
      retryAfterSeconds: 30,
    });
    expect(await limits.campaignTurn(8)).toBeNull(); // every campaign has its own turns
    now += 29_001;
    expect(await limits.campaignTurn(7)).toEqual({
      kind: 'temporary_failure',
      failureType: 'rate limited',
      retryAfterSeconds: 1,
    });
    now += 999;
    expect(await limits.campaignTurn(7)).toBeNull();
  });

  it('checks one a second by default', async () => {
    const limits = brake();
    expect(await limits.campaignTurn(9)).toBeNull();
    expect(await limits.campaignTurn(9)).toEqual({
      kind: 'temporary_failure',
      failureType: 'rate limited',
      retryAfterSeconds: 1,
    });
    now += 1_000;
    expect(await limits.campaignTurn(9)).toBeNull();
  });

  it('keys a client by the key it is given (an IPv6 client’s /64)', () => {
    expect(brake().ipKeys('2001:db8:1:2::/64')).toEqual([{ key: 'ip:2001:db8:1:2::/64', limit: 10 }]);
  });
});
