import { create } from 'xmlbuilder2';
import type { ApiSubmission } from '../store/api-submission-store';
import type { Batch } from '../store/batch-store';
import type { FileError } from './impact-api-service';

/** A value of an answer: impact.com's answers hold strings, numbers, nulls and lists of records. */
export type AnswerValue = string | number | null | AnswerRecord[];
/** An answer, rendered as JSON or (Accept: application/xml) as XML. */
export interface AnswerRecord {
  [field: string]: AnswerValue;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** `GET /Advertisers/:sid/APISubmissions/:id`. */
export function submissionView(submission: ApiSubmission): AnswerRecord {
  return {
    Id: submission.publicId,
    Type: submission.type,
    Status: submission.status,
    ActionId: submission.actionId,
    Code: submission.code,
    Message: submission.message,
    SubmittedDate: iso(submission.submittedAt),
    CompletedDate: iso(submission.completedAt),
  };
}

/** A batch's state in impact.com's words. */
const FILE_STATUS: Record<Batch['state'], string> = {
  queued: 'QUEUED',
  processing: 'IN_PROGRESS',
  completed: 'COMPLETED',
  failed: 'FAILED',
};

/** One line of `GET /Advertisers/:sid/FTPFileSubmissions`. */
export function fileView(sid: string, batch: Batch): AnswerRecord {
  const uri = `/Advertisers/${sid}/FTPFileSubmissions/F-${batch.id}`;
  return {
    BatchId: `F-${batch.id}`,
    FileName: batch.filename,
    Type: 'Modifications',
    Status: FILE_STATUS[batch.state],
    TotalRecords: batch.records,
    TotalErrors: batch.failed,
    SubmissionDate: iso(batch.createdAt),
    CompletionDate: iso(batch.finishedAt),
    ErrorsUri: `${uri}/ErrorDetails`,
    Uri: uri,
  };
}

/** One failed row of `…/ErrorDetails`. */
export function fileErrorView(error: FileError): AnswerRecord {
  return {
    Line: error.line,
    ActionId: error.actionId,
    ActionTrackerId: error.actionTrackerId,
    OrderId: error.orderId,
    Sku: error.sku,
    Code: error.code,
    Status: error.status,
    Reason: error.reason,
  };
}

/**
 * An answer as XML, the way impact.com's API writes it: `<ImpactRadiusResponse>` with an element per field;
 * a list is an element holding one element per record, named by `itemNames` (FTPFileSubmissions →
 * FTPFileSubmission). A null is an empty element.
 */
export function answerXml(answer: AnswerRecord, itemNames: Record<string, string> = {}): string {
  const document = create({ version: '1.0', encoding: 'UTF-8' });
  const fill = (parent: ReturnType<typeof document.ele>, record: AnswerRecord) => {
    for (const [field, value] of Object.entries(record)) {
      const element = parent.ele(field.startsWith('@') ? field.slice(1) : field);
      if (Array.isArray(value)) for (const item of value) fill(element.ele(itemNames[field] ?? 'Item'), item);
      else if (value !== null) element.txt(String(value));
    }
  };
  fill(document.ele('ImpactRadiusResponse'), answer);
  return document.end({ prettyPrint: false });
}
