import { parseAdminUsers } from '../../src/console/admin-users';
import { escapeHtml, html, pathWithQuery } from '../../src/console/html';
import { boundaryOf, parseMultipart } from '../../src/console/multipart';
import { PLACEHOLDER_BASE, postingBase, postingUrls } from '../../src/console/posting-urls';
import { breakableUrl } from '../../src/console/views/campaigns-view';
import { loadConfig } from '../../src/config';

describe('html', () => {
  it('escapes every interpolated value, including quotes and backticks, but not nested fragments', () => {
    const name = `<b onclick="x">'&\``;
    expect(html`<p title="${name}">${name}</p>${html`<i>${'<'}</i>`}`.value).toBe(
      '<p title="&lt;b onclick=&quot;x&quot;&gt;&#39;&amp;&#96;">&lt;b onclick=&quot;x&quot;&gt;&#39;&amp;&#96;</p><i>&lt;</i>',
    );
    expect(escapeHtml('a&b')).toBe('a&amp;b');
    expect(html`${null}${undefined}${false}${0}${['<', html`<br>`]}`.value).toBe('0&lt;<br>');
  });

  it('builds paths with encoded query values and leaves out empty ones', () => {
    expect(pathWithQuery('/admin/whitelist', { campaignId: 5, q: 'a&b c', empty: '' })).toBe(
      '/admin/whitelist?campaignId=5&q=a%26b%20c',
    );
  });
});

describe('multipart', () => {
  const body = (boundary: string, parts: string[]) =>
    Buffer.from(`--${boundary}\r\n${parts.join(`\r\n--${boundary}\r\n`)}\r\n--${boundary}--\r\n`, 'latin1');

  it('reads fields and a file with its bytes exactly, including CRLFs inside the file', () => {
    const boundary = '----WebKitFormBoundaryAbC123';
    const parts = parseMultipart(
      body(boundary, [
        'Content-Disposition: form-data; name="_csrf"\r\n\r\ntoken-1',
        'Content-Disposition: form-data; name="file"; filename="C:\\path\\list %22a%22.txt"\r\nContent-Type: text/plain\r\n\r\nPassword\tClickID\r\npw\tc-1\r\n',
      ]),
      boundary,
    );
    expect(parts).toEqual([
      { name: '_csrf', filename: null, contentType: null, data: Buffer.from('token-1') },
      {
        name: 'file',
        filename: 'C:\\path\\list "a".txt',
        contentType: 'text/plain',
        data: Buffer.from('Password\tClickID\r\npw\tc-1\r\n'),
      },
    ]);
  });

  it('refuses a body that is not well-formed', () => {
    expect(parseMultipart(Buffer.from('no boundary here'), 'xyz')).toBeNull();
    expect(
      parseMultipart(Buffer.from('--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nunterminated'), 'xyz'),
    ).toBeNull();
    expect(parseMultipart(Buffer.from('--xyz\r\nContent-Type: text/plain\r\n\r\nx\r\n--xyz--'), 'xyz')).toBeNull();
  });

  it('finds the boundary of a multipart/form-data content type only', () => {
    expect(boundaryOf('multipart/form-data; boundary=----abc')).toBe('----abc');
    expect(boundaryOf('multipart/form-data; boundary="quoted value"')).toBe('quoted value');
    expect(boundaryOf('application/x-www-form-urlencoded')).toBeNull();
    expect(boundaryOf(undefined)).toBeNull();
  });
});

describe('posting URLs', () => {
  it('may wrap only before a path’s slash, after the ? and before each &, never inside a name or value', () => {
    const markup = breakableUrl('https://track.example.com/transaction.edit?Password=value&A=no&x=<b>').toString();
    expect(markup).toBe(
      'https://track.example.com<wbr>/transaction.edit?<wbr>Password=value<wbr>&amp;A=no<wbr>&amp;x=&lt;b&gt;',
    );
    expect(breakableUrl('http://x').toString()).toBe('http://x');
  });

  it('reproduces LinkTrust’s three sample URLs with this server and the campaign’s CID', () => {
    const urls = postingUrls('https://track.example.com', { id: 4512, uniqueMerchantReference: true });
    expect(urls.map((u) => u.url)).toEqual([
      'https://track.example.com/transaction.edit?Password=value&Transactionid=value&A=no&AP=0.00&MP=0.00&executeaffiliatepixel=Yes',
      'https://track.example.com/transaction.edit?Password=value&ClickID=value&A=no&AP=0.00&MP=0.00&executeaffiliatepixel=Yes',
      'https://track.example.com/transaction.edit?Password=value&Merchantreferenceid=value&CID=4512&A=no&AP=0.00&MP=0.00&executeaffiliatepixel=Yes',
    ]);
    expect(urls.every((u) => u.usable)).toBe(true);
  });

  it('marks the merchant reference URL unusable until unique references are enforced', () => {
    const [, , byReference] = postingUrls('http://x', { id: 1, uniqueMerchantReference: false });
    expect(byReference).toMatchObject({
      usable: false,
      reason: 'Needs "Enforce a unique merchant reference ID" turned on for this campaign.',
    });
  });

  it('uses the request’s host, or the seed’s placeholder when the host is odd', () => {
    expect(postingBase('https', 'track.example.com:8443')).toBe('https://track.example.com:8443');
    expect(postingBase('http', '[2001:db8::1]:8080')).toBe('http://[2001:db8::1]:8080');
    expect(postingBase('http', 'evil.example/"><script>')).toBe(PLACEHOLDER_BASE);
    expect(postingBase('http', undefined)).toBe('http://[TrackingURL.com]');
  });
});

describe('ADMIN_USERS', () => {
  const hash = '$2b$12$' + 'a'.repeat(53);

  it('parses name:bcrypthash pairs', () => {
    expect(parseAdminUsers(`alice:${hash}, bob.smith@example.com:${hash}`)).toEqual([
      { name: 'alice', passwordHash: hash },
      { name: 'bob.smith@example.com', passwordHash: hash },
    ]);
  });

  it('refuses plain passwords, repeated names and empty names', () => {
    expect(parseAdminUsers('alice:hunter2')).toBeNull();
    expect(parseAdminUsers(`alice:${hash},alice:${hash}`)).toBeNull();
    expect(parseAdminUsers(`:${hash}`)).toBeNull();
  });

  it('stops configuration with one line naming ADMIN_USERS, never echoing it, and reads CONSOLE_SESSION_HOURS', () => {
    expect(() => loadConfig({ ADMIN_USERS: 'alice:hunter2' })).toThrow(
      /ADMIN_USERS must be comma-separated name:bcrypthash pairs/,
    );
    expect(() => loadConfig({ ADMIN_USERS: 'alice:hunter2' })).not.toThrow(/hunter2/);
    expect(() => loadConfig({ CONSOLE_SESSION_HOURS: '0' })).toThrow(
      /CONSOLE_SESSION_HOURS must be a whole number from 1 to 720/,
    );
    expect(loadConfig({}).console).toEqual({ sessionTtlMs: 8 * 3_600_000, users: [] });
    expect(loadConfig({ CONSOLE_SESSION_HOURS: '2', ADMIN_USERS: `alice:${hash}` }).console).toEqual({
      sessionTtlMs: 2 * 3_600_000,
      users: [{ name: 'alice', passwordHash: hash }],
    });
  });
});
