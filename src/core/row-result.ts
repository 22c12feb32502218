/**
 * What became of one row of a modification file: its number (1 = first row under the header), whether it
 * was applied, the exact message /transaction.edit would have given, and the identifiers as supplied
 * (raw, '' when not supplied), like `<SuppliedValues>`.
 */
export interface RowResult {
  rowNumber: number;
  succeeded: boolean;
  message: string;
  transactionId: string;
  clickId: string;
  merchantReferenceId: string;
  cid: string;
}
