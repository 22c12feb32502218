/** Largest transaction id accepted (ids are exact JS integers end to end). */
export const MAX_TRANSACTION_ID = Number.MAX_SAFE_INTEGER;
/** Largest campaign id accepted (an unsigned 32-bit column). */
export const MAX_CAMPAIGN_ID = 4_294_967_295;
