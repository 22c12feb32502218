import { clientKeyOf } from '../../src/auth/ip-address';

describe('clientKeyOf', () => {
  it.each([
    ['198.51.100.7', '198.51.100.7'],
    ['::ffff:198.51.100.7', '198.51.100.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:DB8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:db8:0:abcd::1', '2001:db8:0:abcd::/64'],
    ['2001:db8::', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
    ['1:2:3:4:5:6:192.0.2.1', '1:2:3:4::/64'],
    ['', ''],
    ['not-an-address', 'not-an-address'],
  ])('keys %s as %s', (ip, key) => {
    expect(clientKeyOf(ip)).toBe(key);
  });

  it('keys every address of one IPv6 /64 alike, and the next /64 apart', () => {
    const keys = new Set(
      ['2001:db8:7:8::1', '2001:db8:7:8:ffff:ffff:ffff:ffff', '2001:db8:7:8:1234::99'].map(clientKeyOf),
    );
    expect([...keys]).toEqual(['2001:db8:7:8::/64']);
    expect(clientKeyOf('2001:db8:7:9::1')).not.toBe(clientKeyOf('2001:db8:7:8::1'));
  });
});
