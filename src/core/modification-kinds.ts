/** How the transaction was identified by the request that changed it. */
export type IdentifierKind = 'transaction_id' | 'click_id' | 'merchant_reference' | 'action_id' | 'order';

/** Where the change came from. */
export type ModificationSource = 'api' | 'batch' | 'admin' | 'merchant' | 'impact';

/** What became of the postback for this change. */
export type PostbackDisposition = 'not_requested' | 'queued' | 'no_postback_url';
