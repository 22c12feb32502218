/**
 * What became of one row of a modification file: its number (1 = first row under the header), whether it
 * was applied, the exact message /transaction.edit would have given, and the identifiers as supplied
 * (raw, '' when not supplied), like `<SuppliedValues>`. A row of an impact.com file adds its code and
 * impact.com's identifiers; its message is the sentence of its code (or what MALFORMED found).
 */
export interface RowResult {
  rowNumber: number;
  succeeded: boolean;
  message: string;
  transactionId: string;
  clickId: string;
  merchantReferenceId: string;
  cid: string;
  /** impact.com rows: the result or error code (src/impact/result-codes); absent or null for Lead Poster rows. */
  code?: string | null;
  /** impact.com rows: the identifiers as supplied (null when not supplied). */
  actionId?: string | null;
  /**
   * The Oid (order id): impact.com's name for the merchant reference, stored where a Lead Poster row's
   * MerchantreferenceID is, so an impact row's `merchantReferenceId` reads back as its Oid ('' for none).
   */
  oid?: string | null;
  actionTrackerId?: string | null;
  sku?: string | null;
}
