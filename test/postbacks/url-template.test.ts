import fc from 'fast-check';
import {
  MAX_POSTBACK_URL_TEMPLATE_LENGTH,
  renderPostbackUrl,
  validatePostbackUrlTemplate,
  type PostbackTokenValues,
} from '../../src/postbacks/url-template';

function buildTokenValues(overrides: Partial<PostbackTokenValues> = {}): PostbackTokenValues {
  return {
    campaignId: 12,
    affiliateId: 345,
    subId: 'sub-1',
    clickId: 'click-9',
    transactionId: 'tx-77',
    affiliatePayout: '4.50',
    merchantRevenue: '19.99',
    merchantReferenceId: 'order-1',
    affiliateReferenceId: 'aff-ref-2',
    approved: true,
    reason: 'duplicate order',
    postbackId: 'pb-abc',
    ...overrides,
  };
}

describe('renderPostbackUrl', () => {
  it('replaces every LinkTrust token with its value', () => {
    const template =
      'https://aff.example/pb?c=[=CID=]&a=[=AFID=]&s=[=SID=]&k=[=ClickID=]&t=[=_TransID=]' +
      '&p=[=AffiliateCommission=]&r=[=TotalSales=]&m=[=MerchantReferenceID=]' +
      '&f=[=AffiliateReferenceID=]&ok=[=Approved=]&why=[=REASON=]&id=[=PostbackID=]';
    expect(renderPostbackUrl(template, buildTokenValues())).toBe(
      'https://aff.example/pb?c=12&a=345&s=sub-1&k=click-9&t=tx-77&p=4.50&r=19.99&m=order-1' +
        '&f=aff-ref-2&ok=yes&why=duplicate%20order&id=pb-abc',
    );
  });

  it('renders approved=false as no', () => {
    expect(renderPostbackUrl('http://a.example/?s=[=Approved=]', buildTokenValues({ approved: false }))).toBe(
      'http://a.example/?s=no',
    );
  });

  it('matches tokens case-insensitively', () => {
    const values = buildTokenValues();
    const template = 'http://a.example/?x=[=cid=]&y=[=clickid=]&z=[=_TRANSID=]&w=[=sId=]';
    expect(renderPostbackUrl(template, values)).toBe('http://a.example/?x=12&y=click-9&z=tx-77&w=sub-1');
  });

  it('percent-encodes &, spaces, =, #, ? and unicode in values', () => {
    const values = buildTokenValues({ subId: 'a&b=c d#e?f/g', reason: 'prix réduit 🎉' });
    expect(renderPostbackUrl('http://a.example/?s=[=SID=]&r=[=REASON=]', values)).toBe(
      'http://a.example/?s=a%26b%3Dc%20d%23e%3Ff%2Fg&r=prix%20r%C3%A9duit%20%F0%9F%8E%89',
    );
  });

  it('renders null values as empty', () => {
    const values = buildTokenValues({
      subId: null,
      merchantReferenceId: null,
      affiliateReferenceId: null,
      reason: null,
    });
    const template = 'http://a.example/?s=[=SID=]&m=[=MerchantReferenceID=]&f=[=AffiliateReferenceID=]&r=[=REASON=]';
    expect(renderPostbackUrl(template, values)).toBe('http://a.example/?s=&m=&f=&r=');
  });

  it('renders unknown tokens as empty, including names of Object.prototype members', () => {
    const template = 'http://a.example/?u=[=Unknown=]&c=[=constructor=]&p=[=__proto__=]&t=[=toString=]&e=[==]';
    expect(renderPostbackUrl(template, buildTokenValues())).toBe('http://a.example/?u=&c=&p=&t=&e=');
  });

  it('does not re-expand a value that looks like a token', () => {
    const values = buildTokenValues({ subId: '[=CID=]' });
    expect(renderPostbackUrl('http://a.example/?s=[=SID=]', values)).toBe('http://a.example/?s=%5B%3DCID%3D%5D');
  });

  it('leaves text that is not [=NAME=] syntax alone', () => {
    expect(renderPostbackUrl('http://a.example/?a={CID}&b=#CID#&c=[CID]', buildTokenValues())).toBe(
      'http://a.example/?a={CID}&b=#CID#&c=[CID]',
    );
  });

  it('replaces a lone surrogate instead of throwing', () => {
    const values = buildTokenValues({ subId: 'x\uD800y' });
    expect(renderPostbackUrl('http://a.example/?s=[=SID=]', values)).toBe('http://a.example/?s=x%EF%BF%BDy');
  });

  it('round-trips any sub id as exactly one query parameter', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (subId) => {
        const rendered = renderPostbackUrl('http://a.example/pb?s=[=SID=]&c=[=CID=]', buildTokenValues({ subId }));
        const url = new URL(rendered);
        expect([...url.searchParams.keys()]).toEqual(['s', 'c']);
        expect(url.searchParams.get('s')).toBe(subId);
        expect(url.searchParams.get('c')).toBe('12');
      }),
    );
  });
});

describe('validatePostbackUrlTemplate', () => {
  it.each([
    'http://aff.example/pb',
    'https://aff.example:8443/pb?c=[=CID=]&t=[=_TransID=]#frag',
    'HTTPS://AFF.EXAMPLE/[=AFID=]/[=ClickID=]',
    'https://203.0.113.5/pb?x=[=unknown=]',
  ])('accepts %s', (template) => {
    expect(validatePostbackUrlTemplate(template)).toEqual({ ok: true });
  });

  it.each([
    ['ftp://aff.example/pb', 'postbackUrl must be an absolute http(s) URL'],
    ['javascript:alert(1)', 'postbackUrl must be an absolute http(s) URL'],
    ['/pb?c=[=CID=]', 'postbackUrl must be an absolute http(s) URL'],
    ['//aff.example/pb', 'postbackUrl must be an absolute http(s) URL'],
    ['aff.example/pb', 'postbackUrl must be an absolute http(s) URL'],
    ['http:aff.example/pb', 'postbackUrl must be an absolute http(s) URL'],
    ['http://', 'postbackUrl must be an absolute http(s) URL'],
    ['http://aff.example:[=CID=]/pb', 'postbackUrl must be an absolute http(s) URL'],
    ['', 'postbackUrl must be an absolute http(s) URL'],
    ['https://user:pass@aff.example/pb', 'postbackUrl must not contain credentials'],
    ['https://user@aff.example/pb', 'postbackUrl must not contain credentials'],
    ['https://[=SID=]@aff.example/pb', 'postbackUrl must not contain credentials'],
    ['https://[=SID=]/pb', 'postbackUrl must not use tokens in the host or port'],
    ['https://[=SID=].aff.example/pb', 'postbackUrl must not use tokens in the host or port'],
    [' https://aff.example/pb', 'postbackUrl must not contain spaces or control characters'],
    ['https://aff.example/p b', 'postbackUrl must not contain spaces or control characters'],
    ['https://aff.exa\nmple/pb', 'postbackUrl must not contain spaces or control characters'],
  ])('refuses %j', (template, reason) => {
    expect(validatePostbackUrlTemplate(template)).toEqual({ ok: false, reason });
  });

  it('accepts a template of exactly the maximum length and refuses one character more', () => {
    const prefix = 'https://aff.example/?p=';
    const atLimit = prefix + 'a'.repeat(MAX_POSTBACK_URL_TEMPLATE_LENGTH - prefix.length);
    expect(MAX_POSTBACK_URL_TEMPLATE_LENGTH).toBe(2048);
    expect(validatePostbackUrlTemplate(atLimit)).toEqual({ ok: true });
    expect(validatePostbackUrlTemplate(atLimit + 'a')).toEqual({
      ok: false,
      reason: 'postbackUrl must be at most 2048 characters',
    });
  });
});
