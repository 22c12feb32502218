import { testEngines } from '../support/databases';
import { buildScene } from '../support/factories';
import { useTestServer } from '../support/test-server';
import { documentOf, edit, expectUntouched, failure, sendEdit, success, TRANSPORTS } from './edit-request';

// How parameters are read: names in any case, repeats, empty values, unknown names, percent-encoding,
// and the value formats of AP, MP, A, executeaffiliatepixel and REASON.
describe.each(testEngines())('/transaction.edit parameters on %s', (engine) => {
  const context = useTestServer(engine);

  describe.each(TRANSPORTS)('via %s', (transport) => {
    it.each(['Transactionid', 'transactionid', 'TRANSACTIONID', 'TransactionID', 'tRaNsAcTiOnId'])(
      'reads the transaction id named %s',
      async (name) => {
        const { campaign, transaction } = await buildScene(context.server.services);
        const answer = await edit(context.server.baseUrl, transport, [
          ['password', campaign.password as string],
          [name, String(transaction.id)],
          ['ap', '2.5'],
          ['mP', '25'],
          ['a', 'No'],
          ['reason', 'case'],
        ]);
        expect(answer).toEqual(
          success({ TransactionId: String(transaction.id), AP: '2.5', MP: '25', A: 'No', REASON: 'case' }),
        );
        expect(await context.server.services.stores.transactions.getById(transaction.id)).toEqual({
          ...transaction,
          affiliatePayout: 25000n,
          merchantRevenue: 250000n,
          approved: false,
          modificationCount: 1,
          updatedAt: expect.any(Number),
        });
      },
    );

    it.each(['clickid', 'CLICKID', 'ClickId', 'Clickid'])('reads the click id named %s', async (name) => {
      const { campaign, transaction } = await buildScene(context.server.services);
      const answer = await edit(context.server.baseUrl, transport, [
        ['PASSWORD', campaign.password as string],
        [name, transaction.clickId],
      ]);
      expect(answer).toEqual(success({ ClickId: transaction.clickId }));
    });

    it('reads merchantreferenceid and cid in any case', async () => {
      const { campaign, transaction } = await buildScene(context.server.services);
      const answer = await edit(context.server.baseUrl, transport, [
        ['Password', campaign.password as string],
        ['MERCHANTREFERENCEID', transaction.merchantReferenceId as string],
        ['cid', String(campaign.id)],
      ]);
      expect(answer).toEqual(
        success({ MerchantReferenceId: transaction.merchantReferenceId as string, CID: String(campaign.id) }),
      );
    });

    it('accepts a parameter repeated with the same value, in any spelling', async () => {
      const { campaign, transaction } = await buildScene(context.server.services);
      const answer = await edit(context.server.baseUrl, transport, [
        ['Password', campaign.password as string],
        ['Transactionid', String(transaction.id)],
        ['AP', '1.00'],
        ['TransactionID', String(transaction.id)],
        ['ap', '1.00'],
      ]);
      expect(answer).toEqual(success({ TransactionId: String(transaction.id), AP: '1.00' }));
      expect((await context.server.services.stores.transactions.getById(transaction.id))?.affiliatePayout).toBe(10000n);
    });

    it.each([
      [
        [
          ['AP', '1'],
          ['AP', '2'],
        ],
        'AP',
      ],
      [
        [
          ['AP', '1'],
          ['ap', '2'],
        ],
        'ap',
      ],
      [
        [
          ['A', 'yes'],
          ['A', 'YES'],
        ],
        'A',
      ],
      [
        [
          ['Password', 'one'],
          ['password', 'two'],
        ],
        'password',
      ],
      [
        [
          ['REASON', 'x'],
          ['Reason', 'y'],
        ],
        'Reason',
      ],
    ] as Array<[Array<[string, string]>, string]>)(
      'refuses a parameter repeated with different values (%j) naming %s',
      async (repeats, name) => {
        const { campaign, transaction } = await buildScene(context.server.services);
        // A repeated Password brings its own pairs; otherwise the right password goes along. Either way the
        // differing repeat is sent last (mixed: query pairs are read before body pairs).
        const identifier: [string, string] = ['Transactionid', String(transaction.id)];
        const pairs: Array<[string, string]> =
          repeats[0][0] === 'Password'
            ? [repeats[0], identifier, repeats[1]]
            : [['Password', campaign.password as string], identifier, ...repeats];
        const answer = await edit(context.server.baseUrl, transport, pairs);
        expect(answer.error).toEqual({
          type: 'permanent',
          message: `Permanent failure: Invalid parameter value for ${name}`,
        });
        await expectUntouched(context.server.services, transaction);
      },
    );

    it('treats an empty value as not supplied, also next to a supplied one', async () => {
      const { campaign, transaction } = await buildScene(context.server.services);
      const answer = await edit(context.server.baseUrl, transport, [
        ['Password', campaign.password as string],
        ['Transactionid', String(transaction.id)],
        ['ClickID', ''],
        ['Merchantreferenceid', ''],
        ['AP', ''],
        ['MP', '3'],
        ['MP', ''],
        ['A', ''],
        ['executeaffiliatepixel', ''],
        ['REASON', ''],
      ]);
      expect(answer).toEqual(success({ TransactionId: String(transaction.id), MP: '3' }));
      const [row] = await context.server.services.stores.modifications.listForTransaction(transaction.id);
      expect(row.after).toEqual({ affiliatePayout: 100000n, merchantRevenue: 30000n, approved: true });
      expect(row.reason).toBeNull();
    });

    it('ignores unknown parameters and does not echo them', async () => {
      const { campaign, transaction } = await buildScene(context.server.services);
      const answer = await edit(context.server.baseUrl, transport, [
        ['Password', campaign.password as string],
        ['Transactionid', String(transaction.id)],
        ['AFID', 'not-a-number'],
        ['AP ', 'abc'],
        ['unknown', '<junk>'],
        ['AP', '6'],
      ]);
      expect(answer).toEqual(success({ TransactionId: String(transaction.id), AP: '6' }));
    });

    it.each(['-1', '1e3', '1,000', ' 1', '1 ', '1.23456', 'abc', '+1', '.', '0x10', '١', '100000000000'])(
      'refuses the amount %j as AP, MP and ap',
      async (value) => {
        const { campaign, transaction } = await buildScene(context.server.services);
        for (const name of ['AP', 'MP', 'ap']) {
          const answer = await edit(context.server.baseUrl, transport, [
            ['Password', campaign.password as string],
            ['Transactionid', String(transaction.id)],
            [name, value],
          ]);
          const echo = name.toUpperCase() as 'AP' | 'MP';
          expect(answer).toEqual(
            failure('permanent', `Permanent failure: Invalid parameter value for ${name}`, {
              TransactionId: String(transaction.id),
              [echo]: value,
            }),
          );
        }
        await expectUntouched(context.server.services, transaction);
      },
    );

    it.each([
      ['A', 'maybe'],
      ['A', 'true'],
      ['a', '1'],
      ['executeaffiliatepixel', 'maybe'],
      ['ExecuteAffiliatePixel', 'y'],
      ['Transactionid', '0'],
      ['Transactionid', '12abc'],
      ['Transactionid', '-5'],
      ['Transactionid', '99999999999999999'],
      ['CID', '0'],
      ['cid', 'x'],
      ['CID', '4294967296'],
    ])('refuses %s=%j naming the parameter as spelled', async (name, value) => {
      const { campaign, transaction } = await buildScene(context.server.services);
      const identifier: Array<[string, string]> =
        name.toLowerCase() === 'transactionid' ? [] : [['ClickID', transaction.clickId]];
      const answer = await edit(context.server.baseUrl, transport, [
        ['Password', campaign.password as string],
        ...identifier,
        [name, value],
      ]);
      expect(answer.error).toEqual({
        type: 'permanent',
        message: `Permanent failure: Invalid parameter value for ${name}`,
      });
      await expectUntouched(context.server.services, transaction);
    });

    it('accepts A and executeaffiliatepixel as yes or no in any case', async () => {
      const { campaign, transaction } = await buildScene(context.server.services);
      for (const [a, pixel, approved] of [
        ['NO', 'No', false],
        ['Yes', 'nO', true],
        ['nO', 'YES', false],
      ] as Array<[string, string, boolean]>) {
        const answer = await edit(context.server.baseUrl, transport, [
          ['Password', campaign.password as string],
          ['Transactionid', String(transaction.id)],
          ['A', a],
          ['executeaffiliatepixel', pixel],
        ]);
        expect(answer).toEqual(success({ TransactionId: String(transaction.id), A: a }));
        expect((await context.server.services.stores.transactions.getById(transaction.id))?.approved).toBe(approved);
      }
    });

    it('accepts a REASON of 255 characters and stores it, and refuses 256', async () => {
      const { campaign, transaction } = await buildScene(context.server.services);
      const longest = `${'é'.repeat(250)}😀😀😀😀😀`; // 255 characters, 265 UTF-16 units
      const accepted = await edit(context.server.baseUrl, transport, [
        ['Password', campaign.password as string],
        ['Transactionid', String(transaction.id)],
        ['REASON', longest],
      ]);
      expect(accepted).toEqual(success({ TransactionId: String(transaction.id), REASON: longest }));
      const refused = await edit(context.server.baseUrl, transport, [
        ['Password', campaign.password as string],
        ['Transactionid', String(transaction.id)],
        ['Reason', `${longest}x`],
      ]);
      expect(refused).toEqual(
        failure('permanent', 'Permanent failure: Invalid parameter value for Reason', {
          TransactionId: String(transaction.id),
          REASON: `${longest}x`,
        }),
      );
      expect(
        (await context.server.services.stores.modifications.listForTransaction(transaction.id)).map(
          (row) => row.reason,
        ),
      ).toEqual([longest]);
    });
  });

  describe('percent-encoding', () => {
    const cases = [
      ['AP=%ZZ', 'AP'],
      ['ap=%4', 'ap'],
      ['ClickID=%FF', 'ClickID'],
      ['REASON=%C3%28', 'REASON'],
      ['Merchantreferenceid=%E2%82', 'Merchantreferenceid'],
      ['A=%ED%A0%80', 'A'], // an encoded UTF-16 surrogate is not UTF-8
      ['Password=%C0%AF', 'Password'], // an overlong encoding is not UTF-8
    ];

    it.each(cases)('answers %s in the query with Invalid parameter value for %s', async (pair, name) => {
      const { campaign, transaction } = await buildScene(context.server.services);
      const password = name === 'Password' ? '' : `&Password=${encodeURIComponent(campaign.password as string)}`;
      const document = documentOf(
        await sendEdit(context.server.baseUrl, { query: `Transactionid=${transaction.id}&${pair}${password}` }),
      );
      expect(document.error).toEqual({
        type: 'permanent',
        message: `Permanent failure: Invalid parameter value for ${name}`,
      });
      await expectUntouched(context.server.services, transaction);
    });

    it.each(cases)('answers %s in a form body with Invalid parameter value for %s', async (pair, name) => {
      const { campaign, transaction } = await buildScene(context.server.services);
      const password = name === 'Password' ? '' : `&Password=${encodeURIComponent(campaign.password as string)}`;
      const document = documentOf(
        await sendEdit(context.server.baseUrl, {
          query: `Transactionid=${transaction.id}`,
          body: `${pair}${password}`,
        }),
      );
      expect(document.error).toEqual({
        type: 'permanent',
        message: `Permanent failure: Invalid parameter value for ${name}`,
      });
      await expectUntouched(context.server.services, transaction);
    });

    it('decodes percent-encoded names and + as a space, and ignores names that cannot be decoded', async () => {
      const { campaign, transaction } = await buildScene(context.server.services);
      const query = `Transaction%69d=${transaction.id}&Pass%77ord=${encodeURIComponent(campaign.password as string)}&REASON=two+words%21&A%ZZ=1&%FF=2`;
      const document = documentOf(await sendEdit(context.server.baseUrl, { query }));
      expect(document).toEqual(success({ TransactionId: String(transaction.id), REASON: 'two words!' }));
    });

    it('reads parameters of a POST from both the query and the body, and refuses a conflict between them', async () => {
      const { campaign, transaction } = await buildScene(context.server.services);
      const base = `Transactionid=${transaction.id}&AP=1`;
      const ok = documentOf(
        await sendEdit(context.server.baseUrl, {
          query: base,
          body: `Password=${encodeURIComponent(campaign.password as string)}&AP=1&MP=2`,
        }),
      );
      expect(ok).toEqual(success({ TransactionId: String(transaction.id), AP: '1', MP: '2' }));
      const conflict = documentOf(
        await sendEdit(context.server.baseUrl, {
          query: base,
          body: `Password=${encodeURIComponent(campaign.password as string)}&ap=3`,
        }),
      );
      expect(conflict.error).toEqual({
        type: 'permanent',
        message: 'Permanent failure: Invalid parameter value for ap',
      });
    });

    it('reads a form body whose content type names a charset', async () => {
      const { campaign, transaction } = await buildScene(context.server.services);
      const body = `Password=${encodeURIComponent(campaign.password as string)}&Transactionid=${transaction.id}&MP=9`;
      const document = documentOf(
        await sendEdit(context.server.baseUrl, {
          body,
          contentType: 'application/x-www-form-urlencoded; charset=UTF-8',
        }),
      );
      expect(document).toEqual(success({ TransactionId: String(transaction.id), MP: '9' }));
    });
  });
});
