import crypto from 'node:crypto';
import bcrypt from 'bcrypt';
import { clientKeyOf } from '../auth/ip-address';
import { hashPassword, MAX_PASSWORD_BYTES } from '../auth/password-verifier';
import type { BatchService, UploadResult } from '../batch/batch-service';
import type { FailureBrake } from '../modification/failure-brake';
import type { BatchChannel } from '../store/batch-store';
import type { IntakeOwner, IntakeStore, IntakeUser } from '../store/intake-store';
import type { MerchantStore } from '../store/merchant-store';

/** A log-in attempt's answer. */
export type IntakeLogin =
  | { ok: true; user: IntakeUser }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

/** What a refused log-in tells the client (FTP's `530` text) and the log, the same for FTP and SFTP. */
export function loginRefusal(answer: Extract<IntakeLogin, { ok: false }>): string {
  return answer.reason === 'throttled'
    ? `too many failed log-ins; try again in ${answer.retryAfterSeconds} s`
    : 'wrong user name or password';
}

/** A file arriving through an intake channel: for a campaign, or for a merchant (its campaigns). */
export interface IntakeFile {
  campaignId: number | null;
  merchantId?: number | null;
  channel: BatchChannel;
  submittedBy: string;
  filename: string;
  bytes: Buffer;
  clientIp: string;
}

/**
 * What the intake channels ask of the core: the log-in check of the FTP and SFTP servers (under the
 * /transaction.edit brake), whose an e-mail recipient is and whether a message was taken in before, and the
 * one way a file becomes a batch — BatchService.upload, with the channel, the owner and the sender — for
 * every channel. Settings, users and addresses are set through `IntakeService`.
 */
export class IntakeDoors {
  private readonly now: () => number;
  private dummy: Promise<string> | null = null;

  constructor(
    private readonly deps: {
      store: IntakeStore;
      /** Merchants' upload users and addresses: whether the merchant exists (without it, merchants have none). */
      merchants?: Pick<MerchantStore, 'exists'>;
      batches: Pick<BatchService, 'upload'>;
      brake: FailureBrake;
      bcryptCost: number;
      now?: () => number;
    },
  ) {
    this.now = deps.now ?? Date.now;
  }

  /**
   * Checks an FTP/SFTP log-in under the brake of /transaction.edit: a client over its limit is refused
   * before any password is looked at, and each wrong user name or password counts against it. A revoked
   * user, or one whose campaign has upload turned off (whose merchant is gone), is a wrong credential.
   */
  async login(username: string, password: string, clientIp: string): Promise<IntakeLogin> {
    const { brake, store } = this.deps;
    const keys = brake.ipKeys(clientKeyOf(clientIp));
    const refusal = await brake.refusal(keys);
    if (refusal && refusal.kind === 'temporary_failure')
      return { ok: false, reason: 'throttled', retryAfterSeconds: refusal.retryAfterSeconds ?? 1 };
    const user = await store.user(username);
    const usable = user !== null && (await this.usable(user));
    const matches =
      Buffer.byteLength(password) <= MAX_PASSWORD_BYTES &&
      (await bcrypt.compare(password, user?.passwordHash ?? (await this.dummyHash())));
    if (usable && matches && user) return { ok: true, user };
    await brake.count({ kind: 'unauthorized' }, keys);
    return { ok: false, reason: 'invalid' };
  }

  /** True while the user may still upload (not revoked, upload still on). */
  async stillAllowed(user: IntakeUser): Promise<boolean> {
    const now = await this.deps.store.user(user.username);
    return now !== null && (await this.usable(now));
  }

  /** Not revoked, and its campaign takes uploads (a merchant's user: its merchant still exists). */
  private async usable(user: IntakeUser): Promise<boolean> {
    if (user.revokedAt !== null) return false;
    if (user.campaignId !== null) return (await this.deps.store.settings(user.campaignId))?.upload === true;
    return user.merchantId !== null && (await this.deps.merchants?.exists(user.merchantId)) === true;
  }

  /**
   * Whose a recipient address is, while it is current: a campaign's when the campaign takes e-mail, a
   * merchant's while the merchant exists.
   */
  async recipient(address: string): Promise<IntakeOwner | null> {
    const found = await this.deps.store.address(address.trim().toLowerCase());
    if (!found || found.retiredAt !== null) return null;
    if (found.campaignId !== null)
      return (await this.deps.store.settings(found.campaignId))?.email ? { campaignId: found.campaignId } : null;
    if (found.merchantId !== null && (await this.deps.merchants?.exists(found.merchantId)) === true)
      return { merchantId: found.merchantId };
    return null;
  }

  /** Claims a message for its campaign (or merchant) by its Message-ID: false when it was taken in before. */
  claimMessage(owner: IntakeOwner, messageId: string, sender: string | null): Promise<boolean> {
    return this.deps.store.claimMessage({ idSha256: messageKey(owner, messageId), ...owner, sender }, this.now());
  }

  /** Gives a message's claim up after taking it in failed, so that the sender's retry is taken. */
  releaseMessage(owner: IntakeOwner, messageId: string): Promise<void> {
    return this.deps.store.releaseMessage(messageKey(owner, messageId));
  }

  /** Takes a file in as a batch, exactly as the admin upload does, for the campaign and its sender. */
  take(file: IntakeFile): Promise<UploadResult> {
    return this.deps.batches.upload({
      filename: file.filename,
      bytes: file.bytes,
      clientIp: file.clientIp,
      force: false,
      channel: file.channel,
      campaignId: file.campaignId,
      merchantId: file.merchantId ?? null,
      submittedBy: file.submittedBy,
    });
  }

  /**
   * A hash at the configured cost, made once: a wrong user name costs the same bcrypt compare as a wrong
   * password, so the answer's timing does not tell which names exist.
   */
  private dummyHash(): Promise<string> {
    this.dummy ??= hashPassword(crypto.randomBytes(18).toString('base64url'), this.deps.bcryptCost);
    return this.dummy;
  }
}

// Per owner: one message to two campaigns' (or a campaign's and a merchant's) addresses is a file for each.
// A campaign's key is as it always was (claims taken before merchants had addresses still hold); a
// merchant's starts `m:`, which no campaign id does, so the two never collide.
function messageKey(owner: IntakeOwner, messageId: string): string {
  const prefix = 'campaignId' in owner ? `${owner.campaignId}` : `m:${owner.merchantId}`;
  return crypto.createHash('sha256').update(`${prefix}\n${messageId.trim()}`).digest('hex');
}
