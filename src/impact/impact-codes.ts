import type { Outcome } from '../modification/outcome';
import { impactMessage, type ImpactErrorCode, type ImpactResultCode } from './result-codes';

/** What an applied row did. */
export type ImpactResult = ImpactResultCode;

/** A row's refusal as the core's outcome: its code and a sentence a brand understands (the code's own unless given). */
export function impactRefusal(code: ImpactErrorCode, message?: string): Outcome {
  return { kind: 'refused', code, message: message ?? impactMessage(code) };
}
