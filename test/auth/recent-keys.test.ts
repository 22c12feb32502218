import { RecentKeys } from '../../src/auth/recent-keys';

describe('RecentKeys', () => {
  let now = 1_000;
  const keys = (max = 10) => new RecentKeys<string>(100, max, () => now);

  it('remembers a key for its span from the last note', () => {
    const recent = keys();
    recent.note('a');
    now += 99;
    expect(recent.has('a')).toBe(true);
    recent.note('a');
    now += 99;
    expect(recent.has('a')).toBe(true);
    now += 1;
    expect(recent.has('a')).toBe(false);
    expect(recent.has('never')).toBe(false);
  });

  it('renews lazily only once a tenth of the span has passed', () => {
    const recent = keys();
    recent.note('a');
    now += 5;
    recent.note('a', true); // 95 left of 100: not renewed
    now += 95;
    expect(recent.has('a')).toBe(false);
    recent.note('a');
    now += 20;
    recent.note('a', true); // 80 left: renewed for a full span
    now += 99;
    expect(recent.has('a')).toBe(true);
  });

  it('keeps at most `max`, forgetting the least recently noted first', () => {
    const recent = keys(2);
    recent.note('a');
    recent.note('b');
    recent.note('a');
    recent.note('c');
    expect(['a', 'b', 'c'].map((key) => recent.has(key))).toEqual([true, false, true]);
  });
});
