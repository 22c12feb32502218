import { testEngines } from '../support/databases';
import { buildAffiliate, buildCampaign, buildScene, buildTransaction, freshId } from '../support/factories';
import { useTestServer } from '../support/test-server';
import { duringNightly, edit, expectUntouched, failure, success, TRANSPORTS } from './edit-request';

// Every message of the contract, each reached while the conditions for every later message also hold,
// so the test proves the documented order as well as the wording; through GET, POST and mixed.
describe.each(testEngines())('/transaction.edit messages and their order on %s', (engine) => {
  const context = useTestServer(engine);

  /** A transaction in the current hour, which no roll-up has covered: created last, never rolled up. */
  async function pendingScene(campaignFields: Parameters<typeof buildCampaign>[1] = {}) {
    const affiliate = await buildAffiliate(context.server.services);
    const campaign = await buildCampaign(context.server.services, campaignFields);
    const transaction = await buildTransaction(context.server.services, campaign, affiliate, {
      occurredAt: Date.now(),
    });
    return { campaign, transaction };
  }

  describe.each(TRANSPORTS)('via %s', (transport) => {
    it('1. names a malformed value before multiple identifiers, nightly processing and a missing transaction', async () => {
      const { transaction } = await buildScene(context.server.services);
      const unknownId = String(freshId());
      const answer = await duringNightly(context.server.services, () =>
        edit(context.server.baseUrl, transport, [
          ['Password', 'wrong'],
          ['Transactionid', unknownId],
          ['ClickID', 'no-such-click'],
          ['AP', 'abc'],
        ]),
      );
      expect(answer).toEqual(
        failure('permanent', 'Permanent failure: Invalid parameter value for AP', {
          TransactionId: unknownId,
          ClickId: 'no-such-click',
          AP: 'abc',
        }),
      );
      await expectUntouched(context.server.services, transaction);
    });

    it('1. answers Merchantreferenceid without CID with the CID parameter, before multiple identifiers', async () => {
      const { transaction } = await buildScene(context.server.services);
      const answer = await duringNightly(context.server.services, () =>
        edit(context.server.baseUrl, transport, [
          ['Merchantreferenceid', transaction.merchantReferenceId as string],
          ['ClickID', transaction.clickId],
        ]),
      );
      expect(answer).toEqual(
        failure('permanent', 'Permanent failure: Invalid parameter value for CID', {
          MerchantReferenceId: transaction.merchantReferenceId as string,
          ClickId: transaction.clickId,
        }),
      );
      await expectUntouched(context.server.services, transaction);
    });

    it('2. refuses two identifiers before nightly processing, even when both name real transactions', async () => {
      const { campaign, transaction } = await buildScene(context.server.services);
      const answer = await duringNightly(context.server.services, () =>
        edit(context.server.baseUrl, transport, [
          ['Password', campaign.password as string],
          ['Transactionid', String(transaction.id)],
          ['ClickID', transaction.clickId],
          ['AP', '1.00'],
        ]),
      );
      expect(answer).toEqual(
        failure('permanent', 'Permanent failure: Multiple transaction identifiers provided', {
          TransactionId: String(transaction.id),
          ClickId: transaction.clickId,
          AP: '1.00',
        }),
      );
      await expectUntouched(context.server.services, transaction);
    });

    it('2. counts Merchantreferenceid with CID as an identifier next to a ClickID', async () => {
      const { campaign, transaction } = await buildScene(context.server.services);
      const answer = await edit(context.server.baseUrl, transport, [
        ['Password', campaign.password as string],
        ['Merchantreferenceid', transaction.merchantReferenceId as string],
        ['CID', String(campaign.id)],
        ['ClickID', transaction.clickId],
      ]);
      expect(answer).toEqual(
        failure('permanent', 'Permanent failure: Multiple transaction identifiers provided', {
          MerchantReferenceId: transaction.merchantReferenceId as string,
          CID: String(campaign.id),
          ClickId: transaction.clickId,
        }),
      );
      await expectUntouched(context.server.services, transaction);
    });

    it('2. answers a request without any identifier with Invalid transaction specified, before nightly processing', async () => {
      const { campaign } = await buildScene(context.server.services);
      const answer = await duringNightly(context.server.services, () =>
        edit(context.server.baseUrl, transport, [
          ['Password', campaign.password as string],
          ['CID', String(campaign.id)],
          ['A', 'no'],
        ]),
      );
      expect(answer).toEqual(
        failure('permanent', 'Permanent failure: Invalid transaction specified', { CID: String(campaign.id), A: 'no' }),
      );
    });

    it('3. answers nightly processing before looking the transaction up', async () => {
      const answer = await duringNightly(context.server.services, () =>
        edit(context.server.baseUrl, transport, [
          ['Password', 'anything'],
          ['Transactionid', '987654321'],
          ['MP', '5'],
        ]),
      );
      expect(answer).toEqual(
        failure('temporary', 'Temporary failure: Nightly processing in progress', {
          TransactionId: '987654321',
          MP: '5',
        }),
      );
    });

    it('3. answers nightly processing for a real, authorised, rolled-up transaction and changes nothing', async () => {
      const { campaign, transaction } = await buildScene(context.server.services);
      const answer = await duringNightly(context.server.services, () =>
        edit(context.server.baseUrl, transport, [
          ['Password', campaign.password as string],
          ['Transactionid', String(transaction.id)],
          ['AP', '2.00'],
        ]),
      );
      expect(answer).toEqual(
        failure('temporary', 'Temporary failure: Nightly processing in progress', {
          TransactionId: String(transaction.id),
          AP: '2.00',
        }),
      );
      await expectUntouched(context.server.services, transaction);
    });

    it('4. answers an unknown transaction id with Invalid transaction specified', async () => {
      const answer = await edit(context.server.baseUrl, transport, [
        ['Password', 'whatever'],
        ['Transactionid', '987654321'],
      ]);
      expect(answer).toEqual(
        failure('permanent', 'Permanent failure: Invalid transaction specified', { TransactionId: '987654321' }),
      );
    });

    it('4. answers a CID of another campaign before the campaign is checked for opt-in', async () => {
      const affiliate = await buildAffiliate(context.server.services);
      const closed = await buildCampaign(context.server.services, { allowExternalModification: false });
      const other = await buildCampaign(context.server.services);
      const transaction = await buildTransaction(context.server.services, closed, affiliate);
      const answer = await edit(context.server.baseUrl, transport, [
        ['Password', closed.password as string],
        ['ClickID', transaction.clickId],
        ['CID', String(other.id)],
      ]);
      expect(answer).toEqual(
        failure('permanent', 'Permanent failure: Invalid transaction specified', {
          ClickId: transaction.clickId,
          CID: String(other.id),
        }),
      );
      await expectUntouched(context.server.services, transaction);
    });

    it('4. refuses Merchantreferenceid on a campaign without unique references before the opt-in check', async () => {
      const { campaign, transaction } = await pendingScene({
        uniqueMerchantReference: false,
        allowExternalModification: false,
      });
      const answer = await edit(context.server.baseUrl, transport, [
        ['Password', 'wrong'],
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

    it('5. refuses a campaign that is not opted in before checking the password or the hour', async () => {
      const { transaction } = await pendingScene({ allowExternalModification: false, whitelistOnly: true });
      const answer = await edit(context.server.baseUrl, transport, [
        ['Password', 'wrong'],
        ['Transactionid', String(transaction.id)],
        ['A', 'yes'],
      ]);
      expect(answer).toEqual(
        failure('permanent', 'Permanent failure: Campaign does not allow external transaction modification', {
          TransactionId: String(transaction.id),
          A: 'yes',
        }),
      );
      await expectUntouched(context.server.services, transaction);
    });

    it('6. refuses a wrong password before the hour is checked', async () => {
      const { transaction } = await pendingScene();
      const answer = await edit(context.server.baseUrl, transport, [
        ['Password', 'wrong'],
        ['Transactionid', String(transaction.id)],
      ]);
      expect(answer).toEqual(
        failure('permanent', 'Permanent failure: Invalid authentication credentials', {
          TransactionId: String(transaction.id),
        }),
      );
      await expectUntouched(context.server.services, transaction);
    });

    it('6. refuses a missing password', async () => {
      const { transaction } = await buildScene(context.server.services);
      const answer = await edit(context.server.baseUrl, transport, [
        ['Transactionid', String(transaction.id)],
        ['AP', '0'],
      ]);
      expect(answer).toEqual(
        failure('permanent', 'Permanent failure: Invalid authentication credentials', {
          TransactionId: String(transaction.id),
          AP: '0',
        }),
      );
      await expectUntouched(context.server.services, transaction);
    });

    it('6. refuses every password, and none, on a campaign that has no password', async () => {
      const { transaction } = await buildScene(context.server.services, { password: null });
      for (const pairs of [[['Password', 'secret']], [['Password', '']], []] as Array<Array<[string, string]>>) {
        const answer = await edit(context.server.baseUrl, transport, [
          ...pairs,
          ['Transactionid', String(transaction.id)],
        ]);
        expect(answer).toEqual(
          failure('permanent', 'Permanent failure: Invalid authentication credentials', {
            TransactionId: String(transaction.id),
          }),
        );
      }
      await expectUntouched(context.server.services, transaction);
    });

    it('6. refuses a client IP missing from the whitelist of a whitelist-only campaign, with the right password, before the hour', async () => {
      const { campaign, transaction } = await pendingScene({ whitelistOnly: true });
      const answer = await edit(context.server.baseUrl, transport, [
        ['Password', campaign.password as string],
        ['Transactionid', String(transaction.id)],
      ]);
      expect(answer).toEqual(
        failure('permanent', 'Permanent failure: Invalid authentication credentials', {
          TransactionId: String(transaction.id),
        }),
      );
      await expectUntouched(context.server.services, transaction);
    });

    it('7. answers a transaction of an hour not rolled up yet with Hourly processing not completed', async () => {
      const { campaign, transaction } = await pendingScene();
      const answer = await edit(context.server.baseUrl, transport, [
        ['Password', campaign.password as string],
        ['Transactionid', String(transaction.id)],
        ['AP', '3.00'],
      ]);
      expect(answer).toEqual(
        failure('temporary', 'Temporary failure: Hourly processing not completed', {
          TransactionId: String(transaction.id),
          AP: '3.00',
        }),
      );
      await expectUntouched(context.server.services, transaction);
    });

    it('8. succeeds without an Error element and applies the change', async () => {
      const { campaign, transaction } = await buildScene(context.server.services);
      const answer = await edit(context.server.baseUrl, transport, [
        ['Password', campaign.password as string],
        ['Transactionid', String(transaction.id)],
        ['AP', '4.25'],
        ['MP', '40.50'],
        ['A', 'no'],
        ['REASON', 'chargeback'],
      ]);
      expect(answer).toEqual(
        success({ TransactionId: String(transaction.id), AP: '4.25', MP: '40.50', A: 'no', REASON: 'chargeback' }),
      );
      const after = await context.server.services.stores.transactions.getById(transaction.id);
      expect(after).toEqual({
        ...transaction,
        affiliatePayout: 42500n,
        merchantRevenue: 405000n,
        approved: false,
        modificationCount: 1,
        updatedAt: expect.any(Number),
      });
      expect(await context.server.services.stores.modifications.listForTransaction(transaction.id)).toHaveLength(1);
    });
  });
});
