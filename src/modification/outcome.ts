import type { Transaction } from '../core/transaction';

/** Every answer the core gives. Refusals are values; only infrastructure trouble throws. */
export type Outcome =
  | {
      kind: 'applied';
      transaction: Transaction;
      modificationId: number;
      result?: string;
      /**
       * The answer stored with this change under its key (`ModifyOptions.idempotency`), when its COMMIT
       * landed despite a lost connection: the front door sends it as it is, so that a retry gets the same bytes.
       */
      stored?: string;
    }
  /** A front door's own refusal (impact's result codes), with its message: permanent. */
  | { kind: 'refused'; code: string; message: string }
  | { kind: 'invalid_parameter'; parameter: string }
  | { kind: 'multiple_identifiers' }
  | { kind: 'invalid_transaction' }
  | { kind: 'nightly_in_progress' }
  | { kind: 'campaign_closed' }
  | { kind: 'unauthorized' }
  | { kind: 'hourly_pending' }
  | { kind: 'temporary_failure'; failureType: string; retryAfterSeconds?: number }
  | { kind: 'system_error' };

/** A refusal for a reason that may pass soon (database trouble, a busy server, nightly processing). */
export function isPassing(outcome: Outcome): boolean {
  return outcome.kind === 'temporary_failure' || outcome.kind === 'nightly_in_progress';
}

/** The answer to a client that already has its share of password compares under way. */
export function clientBusy(): Outcome {
  return { kind: 'temporary_failure', failureType: 'rate limited', retryAfterSeconds: 1 };
}

/** LinkTrust's error Type. */
export type FailureType = 'permanent' | 'temporary' | 'system';

/**
 * The one table of messages, word for word from LinkTrust's error table (the table, not the sample,
 * where they differ: "Permanent failure", no trailing period).
 */
export function describeOutcome(outcome: Exclude<Outcome, { kind: 'applied' }>): {
  type: FailureType;
  message: string;
} {
  switch (outcome.kind) {
    case 'invalid_parameter':
      return { type: 'permanent', message: `Permanent failure: Invalid parameter value for ${outcome.parameter}` };
    case 'multiple_identifiers':
      return { type: 'permanent', message: 'Permanent failure: Multiple transaction identifiers provided' };
    case 'invalid_transaction':
      return { type: 'permanent', message: 'Permanent failure: Invalid transaction specified' };
    case 'nightly_in_progress':
      return { type: 'temporary', message: 'Temporary failure: Nightly processing in progress' };
    case 'campaign_closed':
      return {
        type: 'permanent',
        message: 'Permanent failure: Campaign does not allow external transaction modification',
      };
    case 'unauthorized':
      return { type: 'permanent', message: 'Permanent failure: Invalid authentication credentials' };
    case 'hourly_pending':
      return { type: 'temporary', message: 'Temporary failure: Hourly processing not completed' };
    case 'temporary_failure':
      return {
        type: 'temporary',
        message: `Temporary failure: ${outcome.failureType} LinkTrust API was unable to complete the request`,
      };
    case 'system_error':
      return { type: 'system', message: 'System level error' };
    case 'refused':
      return { type: 'permanent', message: outcome.message };
  }
}
