import crypto from 'node:crypto';
import type { RawParameter } from '../core/raw-parameter';
import { impactColumn } from '../impact/impact-columns';
import { parseImpactRow, type ImpactRow } from '../impact/impact-row';
import type { ApiSubmissionType } from '../store/api-submission-store';

/** Order-level columns a reversal (DELETE) takes: the action's identifiers and the disposition. */
const REVERSAL_COLUMNS = new Set(['ActionId', 'ActionTrackerId', 'Oid', 'Reason', 'CurrencyCode']);

/** The parameters of an Actions call as a row of an impact.com file, or why it is refused (400, nothing stored). */
export type ActionParameters =
  { ok: true; parameters: RawParameter[]; row: ImpactRow; fingerprint: string } | { ok: false; message: string };

/**
 * Maps the parameters of `PUT` (a modification) or `DELETE` (a reversal) on `/Advertisers/:sid/Actions` to
 * the columns of an impact.com modifications file (`OrderId` is the file's `Oid`, `DispositionCode` its
 * `Reason`), so that a submission is read and applied by exactly the file's rules (impact-row, impact-rules).
 * A modification's disposition defaults to ORDER_UPDATE; a reversal is a row with Amount 0 and the
 * disposition (default REJECTED). Refused: a parameter impact.com does not know, one given twice, one a
 * reversal does not take, and anything the file's first rule (MALFORMED) refuses.
 */
export function actionParameters(
  type: ApiSubmissionType,
  supplied: RawParameter[],
  accountCurrency: string,
): ActionParameters {
  const byName = new Map<string, string>();
  for (const { name, value } of supplied) {
    const column = impactColumn(name);
    if (column === null) return { ok: false, message: `Unknown parameter: ${shown(name)}` };
    if (type === 'Reversal' && !(column.kind === 'order' && REVERSAL_COLUMNS.has(column.name)))
      return { ok: false, message: `Parameter ${shown(name)} is not allowed when reversing an action` };
    if (byName.has(column.name)) return { ok: false, message: `Parameter ${shown(name)} is given more than once` };
    byName.set(column.name, value);
  }
  const reason = byName.get('Reason')?.trim();
  if (!reason) byName.set('Reason', type === 'Reversal' ? 'REJECTED' : 'ORDER_UPDATE');
  if (type === 'Reversal') byName.set('Amount', '0');
  // A file of exactly ActionId, Amount and Reason is a mobile action's; an API call never is one.
  if (!byName.has('CurrencyCode')) byName.set('CurrencyCode', '');
  const parameters = [...byName].map(([name, value]) => ({ name, value }));
  const parsed = parseImpactRow(parameters, accountCurrency);
  if (!parsed.ok) return { ok: false, message: parsed.message };
  const canonical = [...parameters].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const fingerprint = crypto
    .createHash('sha256')
    .update(JSON.stringify([type, canonical]))
    .digest('hex');
  return { ok: true, parameters, row: parsed.row, fingerprint };
}

function shown(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
