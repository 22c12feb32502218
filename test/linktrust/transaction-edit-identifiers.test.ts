import { testEngines } from '../support/databases';
import {
  buildAffiliate,
  buildCampaign,
  buildScene,
  buildTransaction,
  freshId,
  rollUpToNow,
} from '../support/factories';
import { useTestServer } from '../support/test-server';
import { edit, expectUntouched, failure, success, TRANSPORTS } from './edit-request';

describe.each(testEngines())('/transaction.edit identifiers on %s', (engine) => {
  const context = useTestServer(engine);

  const history = (transactionId: number) =>
    context.server.services.stores.modifications.listForTransaction(transactionId);

  describe.each(TRANSPORTS)('via %s', (transport) => {
    it('finds the transaction by Transactionid and records the identifier', async () => {
      const { campaign, transaction } = await buildScene(context.server.services);
      const answer = await edit(context.server.baseUrl, transport, [
        ['Password', campaign.password as string],
        ['Transactionid', String(transaction.id)],
        ['A', 'no'],
      ]);
      expect(answer).toEqual(success({ TransactionId: String(transaction.id), A: 'no' }));
      expect((await history(transaction.id)).map((row) => row.identifier)).toEqual(['transaction_id']);
      expect((await context.server.services.stores.transactions.getById(transaction.id))?.approved).toBe(false);
    });

    it('finds the transaction by ClickID and records the identifier', async () => {
      const { campaign, transaction } = await buildScene(context.server.services);
      const answer = await edit(context.server.baseUrl, transport, [
        ['Password', campaign.password as string],
        ['ClickID', transaction.clickId],
        ['MP', '7.77'],
      ]);
      expect(answer).toEqual(success({ ClickId: transaction.clickId, MP: '7.77' }));
      expect((await history(transaction.id)).map((row) => row.identifier)).toEqual(['click_id']);
      expect((await context.server.services.stores.transactions.getById(transaction.id))?.merchantRevenue).toBe(77700n);
    });

    it('finds the transaction by Merchantreferenceid and CID on a campaign enforcing unique references', async () => {
      const { campaign, transaction } = await buildScene(context.server.services, { uniqueMerchantReference: true });
      const answer = await edit(context.server.baseUrl, transport, [
        ['Password', campaign.password as string],
        ['Merchantreferenceid', transaction.merchantReferenceId as string],
        ['CID', String(campaign.id)],
        ['AP', '1.5'],
      ]);
      expect(answer).toEqual(
        success({
          MerchantReferenceId: transaction.merchantReferenceId as string,
          CID: String(campaign.id),
          AP: '1.5',
        }),
      );
      expect((await history(transaction.id)).map((row) => row.identifier)).toEqual(['merchant_reference']);
      expect((await context.server.services.stores.transactions.getById(transaction.id))?.affiliatePayout).toBe(15000n);
    });

    it('accepts a CID that matches the campaign of a Transactionid or a ClickID', async () => {
      const { campaign, transaction } = await buildScene(context.server.services);
      for (const identifier of [
        ['Transactionid', String(transaction.id)],
        ['ClickID', transaction.clickId],
      ] as Array<[string, string]>) {
        const answer = await edit(context.server.baseUrl, transport, [
          ['Password', campaign.password as string],
          identifier,
          ['CID', String(campaign.id)],
        ]);
        expect(answer.succeeded).toBe('True');
      }
      expect((await history(transaction.id)).map((row) => row.identifier)).toEqual(['transaction_id', 'click_id']);
    });

    it('answers Invalid transaction specified when the CID does not match the campaign of a Transactionid or a ClickID', async () => {
      const { campaign, transaction } = await buildScene(context.server.services);
      const other = await buildCampaign(context.server.services);
      const answers = [
        await edit(context.server.baseUrl, transport, [
          ['Password', campaign.password as string],
          ['Transactionid', String(transaction.id)],
          ['CID', String(other.id)],
        ]),
        await edit(context.server.baseUrl, transport, [
          ['Password', campaign.password as string],
          ['ClickID', transaction.clickId],
          ['CID', String(other.id)],
        ]),
        await edit(context.server.baseUrl, transport, [
          ['Password', campaign.password as string],
          ['ClickID', transaction.clickId],
          ['CID', String(freshId())],
        ]),
      ];
      expect(answers.map((answer) => answer.error)).toEqual([
        { type: 'permanent', message: 'Permanent failure: Invalid transaction specified' },
        { type: 'permanent', message: 'Permanent failure: Invalid transaction specified' },
        { type: 'permanent', message: 'Permanent failure: Invalid transaction specified' },
      ]);
      await expectUntouched(context.server.services, transaction);
    });

    it('answers Invalid parameter value for Merchantreferenceid on a campaign that does not enforce unique references', async () => {
      const { campaign, transaction } = await buildScene(context.server.services, { uniqueMerchantReference: false });
      const answer = await edit(context.server.baseUrl, transport, [
        ['Password', campaign.password as string],
        ['Merchantreferenceid', transaction.merchantReferenceId as string],
        ['CID', String(campaign.id)],
      ]);
      expect(answer).toEqual(
        failure('permanent', 'Permanent failure: Invalid parameter value for Merchantreferenceid', {
          MerchantReferenceId: transaction.merchantReferenceId as string,
          CID: String(campaign.id),
        }),
      );
      await expectUntouched(context.server.services, transaction);
    });

    it('answers Invalid parameter value for CID when Merchantreferenceid comes without CID', async () => {
      const { campaign, transaction } = await buildScene(context.server.services);
      const answer = await edit(context.server.baseUrl, transport, [
        ['Password', campaign.password as string],
        ['Merchantreferenceid', transaction.merchantReferenceId as string],
      ]);
      expect(answer).toEqual(
        failure('permanent', 'Permanent failure: Invalid parameter value for CID', {
          MerchantReferenceId: transaction.merchantReferenceId as string,
        }),
      );
      await expectUntouched(context.server.services, transaction);
    });

    it('answers Invalid transaction specified for a merchant reference that belongs to another campaign', async () => {
      const { transaction } = await buildScene(context.server.services);
      const other = await buildCampaign(context.server.services);
      const answer = await edit(context.server.baseUrl, transport, [
        ['Password', other.password as string],
        ['Merchantreferenceid', transaction.merchantReferenceId as string],
        ['CID', String(other.id)],
      ]);
      expect(answer.error).toEqual({ type: 'permanent', message: 'Permanent failure: Invalid transaction specified' });
      await expectUntouched(context.server.services, transaction);
    });

    it('answers Invalid transaction specified for an unknown ClickID', async () => {
      const answer = await edit(context.server.baseUrl, transport, [
        ['Password', 'x'],
        ['ClickID', `no-such-click-${freshId()}`],
      ]);
      expect(answer.error).toEqual({ type: 'permanent', message: 'Permanent failure: Invalid transaction specified' });
    });

    it('matches click ids and merchant references exactly: another case or a trailing space names no transaction', async () => {
      const affiliate = await buildAffiliate(context.server.services);
      const campaign = await buildCampaign(context.server.services);
      const clickId = `Click-${freshId()}`;
      const transaction = await buildTransaction(context.server.services, campaign, affiliate, {
        clickId,
        merchantReferenceId: `Order-${clickId}`,
      });
      await rollUpToNow(context.server.services);
      const password: [string, string] = ['Password', campaign.password as string];
      const answers = [
        await edit(context.server.baseUrl, transport, [password, ['ClickID', clickId.toUpperCase()]]),
        await edit(context.server.baseUrl, transport, [password, ['ClickID', `${clickId} `]]),
        await edit(context.server.baseUrl, transport, [
          password,
          ['Merchantreferenceid', `order-${clickId}`],
          ['CID', String(campaign.id)],
        ]),
        await edit(context.server.baseUrl, transport, [
          password,
          ['Merchantreferenceid', `Order-${clickId} `],
          ['CID', String(campaign.id)],
        ]),
      ];
      expect(answers.map((answer) => answer.error?.message)).toEqual([
        'Permanent failure: Invalid transaction specified',
        'Permanent failure: Invalid transaction specified',
        'Permanent failure: Invalid transaction specified',
        'Permanent failure: Invalid transaction specified',
      ]);
      await expectUntouched(context.server.services, transaction);
    });

    it('finds a transaction by a unicode merchant reference and echoes it', async () => {
      const affiliate = await buildAffiliate(context.server.services);
      const campaign = await buildCampaign(context.server.services);
      const reference = `Bestellung-Größe-日本-😀-${freshId()}`;
      const transaction = await buildTransaction(context.server.services, campaign, affiliate, {
        merchantReferenceId: reference,
      });
      await rollUpToNow(context.server.services);
      const answer = await edit(context.server.baseUrl, transport, [
        ['Password', campaign.password as string],
        ['Merchantreferenceid', reference],
        ['CID', String(campaign.id)],
        ['A', 'no'],
      ]);
      expect(answer).toEqual(success({ MerchantReferenceId: reference, CID: String(campaign.id), A: 'no' }));
      expect((await context.server.services.stores.transactions.getById(transaction.id))?.approved).toBe(false);
    });
  });
});
