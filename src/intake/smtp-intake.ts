import crypto from 'node:crypto';
import type { Readable } from 'node:stream';
import fs from 'node:fs';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';
import type { Logger } from '../logger';
import type { IntakeDoors } from './intake-doors';
import { normaliseClientIp } from '../auth/ip-address';
import { capped } from './capped-stream';

/** The SMTP server's settings (SMTP_*, TLS files, BATCH_MAX_FILE_MB). */
export interface SmtpIntakeOptions {
  host: string;
  port: number;
  domain: string | null;
  maxMessageBytes: number;
  tls: { certFile: string; keyFile: string } | null;
}

/** An error smtp-server answers with its response code. */
const smtpError = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });

const TAKEN_NAME = /\.(csv|xml)$/i;

/** A digest of what makes a message this message, for one without a Message-ID. */
function fingerprintOf(parsed: ParsedMail): string {
  const hash = crypto.createHash('sha256');
  // The header as written: mailparser reads an unparsable Date as "now", which differs per delivery.
  const rawDate = parsed.headerLines.find((header) => header.key === 'date')?.line;
  for (const part of [parsed.from?.text, parsed.subject, rawDate, parsed.text]) hash.update(part ?? '').update('\0');
  for (const attachment of parsed.attachments)
    hash
      .update(attachment.filename ?? '')
      .update('\0')
      .update(attachment.content);
  return hash.digest('hex');
}

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const objects = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return objects.flatMap((o) => o.value.map((v) => (v.address ?? '').toLowerCase()));
}

/**
 * The e-mail intake (smtp-server + mailparser): RCPT TO a campaign's or a merchant's current address is
 * accepted, any other recipient refused (550); a message whose To: holds an accepted address has each
 * .csv/.xml attachment taken in as a batch of that campaign (or merchant: its rows touch exactly the
 * merchant's campaigns) with channel email and the sender recorded, once per Message-ID and owner. Cc: recipients are ignored. STARTTLS with the TLS files; the SIZE limit is BATCH_MAX_FILE_MB.
 */
export class SmtpIntake {
  private server: SMTPServer | null = null;

  constructor(
    private readonly intake: IntakeDoors,
    private readonly options: SmtpIntakeOptions,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<number> {
    const { options } = this;
    const server = new SMTPServer({
      name: options.domain ?? undefined,
      banner: 'txedit impact.com file intake',
      authOptional: true,
      disabledCommands: options.tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
      ...(options.tls
        ? { key: fs.readFileSync(options.tls.keyFile), cert: fs.readFileSync(options.tls.certFile) }
        : {}),
      size: options.maxMessageBytes,
      logger: false,
      onRcptTo: (address, session, callback) => this.recipient(address, session).then(() => callback(), callback),
      onData: (stream, session, callback) => {
        this.message(stream, session).then(() => callback(), callback);
      },
    });
    server.on('error', (error) => this.logger.warn({ err: error }, 'SMTP intake error'));
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(options.port, options.host, () => resolve());
    });
    this.server = server;
    const address = server.server.address();
    return typeof address === 'object' && address ? address.port : options.port;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async recipient(address: SMTPServerAddress, _session: SMTPServerSession): Promise<void> {
    const owner = await this.intake.recipient(address.address);
    if (owner === null) throw smtpError(550, `${address.address}: no such intake address`);
  }

  private async message(stream: Readable & { sizeExceeded?: boolean }, session: SMTPServerSession) {
    // The parser sees at most the limit: an oversized message is read to its end but never held whole.
    const body = capped(stream, this.options.maxMessageBytes);
    const parsed = await simpleParser(body);
    if (stream.sizeExceeded || body.exceeded) throw smtpError(552, 'the message is larger than BATCH_MAX_FILE_MB');
    const to = new Set(addresses(parsed.to));
    const sender =
      addresses(parsed.from)[0] || (session.envelope.mailFrom ? session.envelope.mailFrom.address.toLowerCase() : '');
    // Without a Message-ID the message itself tells a second delivery of it: its headers, text and every
    // attachment (two files sent by a script with neither Message-ID nor Date are two messages).
    const messageId = parsed.messageId ?? `sha256:${fingerprintOf(parsed)}`;
    const clientIp = normaliseClientIp(session.remoteAddress ?? '');
    for (const recipient of session.envelope.rcptTo) {
      const address = recipient.address.toLowerCase();
      if (!to.has(address)) continue; // a Cc: or Bcc: copy
      const owner = await this.intake.recipient(address);
      if (owner === null) continue;
      if (!(await this.intake.claimMessage(owner, messageId, sender || null))) continue;
      // A merchant's address: the batch is the merchant's, its rows touch exactly the merchant's campaigns.
      const { campaignId, merchantId } =
        'campaignId' in owner ? { ...owner, merchantId: null } : { ...owner, campaignId: null };
      // A failure (the database gone) gives the claim up, so the sender's retry after our 4xx is taken.
      try {
        for (const attachment of parsed.attachments) {
          const filename = attachment.filename ?? '';
          if (!TAKEN_NAME.test(filename)) continue;
          const result = await this.intake.take({
            campaignId,
            merchantId,
            channel: 'email',
            submittedBy: sender || 'unknown sender',
            filename,
            bytes: attachment.content,
            clientIp,
          });
          if (!result.ok)
            this.logger.warn({ ...owner, filename, reason: result.reason }, 'e-mailed file cannot be read');
        }
      } catch (error) {
        await this.intake.releaseMessage(owner, messageId).catch(() => undefined);
        // The sender hears a temporary refusal, not our database's message.
        this.logger.error({ err: error, ...owner }, 'e-mailed file could not be taken in');
        throw smtpError(451, 'the file could not be taken in now; try again later');
      }
    }
  }
}
