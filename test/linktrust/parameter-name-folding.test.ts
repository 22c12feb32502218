import { parseModificationFile } from '../../src/batch/parse-file';
import { requestFingerprint } from '../../src/linktrust/request-fingerprint';
import { asciiLowerCase } from '../../src/core/raw-parameter';
import { decodeFormPairs } from '../../src/linktrust/raw-parameters';
import { isKnownParameter, parseModificationParameters } from '../../src/linktrust/request-parser';
import { csvFile, tabFile, uploadRaw } from '../batch/batch-helpers';
import { testEngines } from '../support/databases';
import { buildScene } from '../support/factories';
import { useTestServer } from '../support/test-server';
import { documentOf, edit, expectUntouched, failure, sendEdit, success, TRANSPORTS } from './edit-request';

// U+212A KELVIN SIGN: String.prototype.toLowerCase folds it to an ASCII "k".
const KELVIN_CLICK_ID = 'Clic\u212AID';
const KELVIN_ENCODED = 'Clic%E2%84%AAID';

describe('parameter names fold ASCII letters only', () => {
  it('lower-cases A–Z and leaves every other character as it is', () => {
    expect(asciiLowerCase('TransactionID')).toBe('transactionid');
    expect(asciiLowerCase(KELVIN_CLICK_ID)).toBe('clic\u212aid');
    expect(asciiLowerCase('ÄPÉ\u0130')).toBe('ÄpÉ\u0130');
    expect(KELVIN_CLICK_ID.toLowerCase()).toBe('clickid'); // what the parser used to compare
  });

  it(`does not read ${KELVIN_ENCODED} as ClickID: an unknown name, ignored`, () => {
    const pairs = decodeFormPairs(`Password=pw&${KELVIN_ENCODED}=abc`);
    expect(pairs.parameters).toEqual([
      { name: 'Password', value: 'pw' },
      { name: KELVIN_CLICK_ID, value: 'abc' },
    ]);
    expect(isKnownParameter(KELVIN_CLICK_ID)).toBe(false);
    const parsed = parseModificationParameters(pairs);
    expect(parsed).toMatchObject({ ok: false, outcome: { kind: 'invalid_transaction' }, supplied: { clickId: '' } });
    // Beside a real identifier it is not a second one, and it does not change what a retry's key covers.
    const withId = decodeFormPairs(`Password=pw&TransactionID=7&${KELVIN_ENCODED}=abc`);
    expect(parseModificationParameters(withId)).toMatchObject({
      ok: true,
      request: { identifier: { kind: 'transaction_id', transactionId: 7 } },
    });
    expect(requestFingerprint(withId)).toBe(requestFingerprint(decodeFormPairs('Password=pw&TransactionID=7')));
  });

  it('does not take a Kelvin-sign header as the ClickID column of a bulk file', () => {
    expect(
      parseModificationFile(
        tabFile([
          ['Password', KELVIN_CLICK_ID],
          ['pw', 'abc'],
        ]),
      ),
    ).toEqual({
      ok: false,
      reason: `unknown column(s): ${KELVIN_CLICK_ID}; missing identifier column: TransactionID, ClickID or MerchantreferenceID + CID`,
    });
  });
});

describe.each(testEngines())('/transaction.edit and bulk files with a Kelvin sign in a name on %s', (engine) => {
  const context = useTestServer(engine);

  describe.each(TRANSPORTS)('via %s', (transport) => {
    it(`answers ${KELVIN_ENCODED}=<a real click id> as an unknown parameter: Invalid transaction specified, nothing changed`, async () => {
      const { campaign, transaction } = await buildScene(context.server.services);
      const answer = await edit(context.server.baseUrl, transport, [
        ['Password', campaign.password as string],
        [KELVIN_CLICK_ID, transaction.clickId],
        ['AP', '1.00'],
      ]);
      expect(answer).toEqual(failure('permanent', 'Permanent failure: Invalid transaction specified', { AP: '1.00' }));
      const unknownName = await edit(context.server.baseUrl, transport, [
        ['Password', campaign.password as string],
        ['NotAParameter', transaction.clickId],
        ['AP', '1.00'],
      ]);
      expect(answer).toEqual(unknownName);
      await expectUntouched(context.server.services, transaction);
    });

    it('applies by TransactionID when the Kelvin-sign name comes along, ignoring it', async () => {
      const { campaign, transaction } = await buildScene(context.server.services);
      const answer = await edit(context.server.baseUrl, transport, [
        ['Password', campaign.password as string],
        ['TransactionID', String(transaction.id)],
        [KELVIN_CLICK_ID, 'someone-elses-click'],
      ]);
      expect(answer).toEqual(success({ TransactionId: String(transaction.id) }));
    });
  });

  it('reads the raw percent-encoded name from the query string the same way', async () => {
    const { campaign, transaction } = await buildScene(context.server.services);
    const answer = documentOf(
      await sendEdit(context.server.baseUrl, {
        query: `Password=${campaign.password}&${KELVIN_ENCODED}=${transaction.clickId}`,
      }),
    );
    expect(answer).toEqual(failure('permanent', 'Permanent failure: Invalid transaction specified'));
    await expectUntouched(context.server.services, transaction);
  });

  it('refuses an upload whose header spells ClickID with a Kelvin sign', async () => {
    const { campaign, transaction } = await buildScene(context.server.services);
    const upload = await uploadRaw(
      context.server.baseUrl,
      csvFile([
        ['Password', KELVIN_CLICK_ID, 'AP'],
        [campaign.password as string, transaction.clickId, '1.00'],
      ]),
      {
        filename: 'kelvin.csv',
      },
    );
    expect(upload.status).toBe(400);
    expect(upload.body.error).toEqual({
      code: 'unreadable_file',
      message: `the file cannot be read: unknown column(s): ${KELVIN_CLICK_ID}; missing identifier column: TransactionID, ClickID or MerchantreferenceID + CID`,
    });
    await expectUntouched(context.server.services, transaction);
  });
});
