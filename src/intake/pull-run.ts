import crypto from 'node:crypto';
import dns from 'node:dns/promises';
import { forbiddenAddressReason, PRIVATE_ADDRESS_REFUSED } from '../postbacks/network-guard';
import type { IntakeSettings, IntakeStore } from '../store/intake-store';
import type { Logger } from '../logger';
import type { BatchService } from '../batch/batch-service';
import type { SecretBox } from './secret-box';
import { openPull, type PullConnection, type PullTarget } from './pull-clients';

/** What one pull did: the files it took (name and batch id), or why it failed. */
export interface PullResult {
  at: number;
  taken: Array<{ name: string; batchId: number | null; error: string | null }>;
  error: string | null;
}

/** Runs one campaign's pull. */
export interface PullRun {
  run(settings: IntakeSettings): Promise<PullResult>;
}

/** How pulls connect. */
export interface PullOptions {
  allowPrivateNetworks: boolean;
  timeoutMs: number;
  maxFileBytes: number;
  verifyTls: boolean;
}

const TAKEN = /\.(csv|xml)$/i;

/**
 * Pulls a campaign's new .csv/.xml files from the brand's server: refuses a private host (unless allowed)
 * before connecting, lists the directory, takes each file not taken before (same name, size and mtime, or
 * same content) through BatchService.upload, never deletes anything there, and records the attempt.
 */
export function createPullRun(deps: {
  store: IntakeStore;
  batches: Pick<BatchService, 'upload'>;
  secrets: SecretBox;
  logger: Logger;
  options: PullOptions;
  now?: () => number;
  /** How a connection is opened (tests may count attempts). */
  open?: (target: PullTarget) => Promise<PullConnection>;
}): PullRun {
  const now = deps.now ?? Date.now;
  const open = deps.open ?? openPull;
  return {
    async run(settings) {
      const at = now();
      const taken: PullResult['taken'] = [];
      let error: string | null = null;
      try {
        // On time out the brand's connection is closed and no further file is claimed: a stuck pull
        // does not go on taking files behind the error it already recorded.
        const session: PullSession = { connection: null, timedOut: false };
        await withTimeout(pullFiles(settings, taken, session), deps.options.timeoutMs, () => {
          session.timedOut = true;
          session.connection?.close();
        });
      } catch (problem) {
        error = problem instanceof Error ? problem.message : String(problem);
        deps.logger.warn(
          { campaignId: settings.campaignId, err: problem },
          'intake pull failed; retried next interval',
        );
      }
      await deps.store.recordPull(settings.campaignId, at, taken.filter((t) => t.batchId !== null).length, error);
      return { at, taken, error };
    },
  };

  async function pullFiles(settings: IntakeSettings, taken: PullResult['taken'], session: PullSession) {
    const pull = settings.pull;
    if (!pull) throw new Error('no pull settings');
    const password = deps.secrets.open(pull.passwordSealed);
    if (password === null) throw new Error('the pull password cannot be unsealed (intake key changed?)');
    const address = await checkedAddress(pull.host, deps.options.allowPrivateNetworks);
    const connection = await open({
      protocol: pull.protocol,
      host: pull.host,
      address,
      port: pull.port,
      directory: pull.directory,
      username: pull.username,
      password,
      timeoutMs: deps.options.timeoutMs,
      verifyTls: deps.options.verifyTls,
      hostKeySha256: pull.hostKeySha256,
    });
    session.connection = connection;
    if (connection.hostKeySha256 && pull.hostKeySha256 === null)
      await deps.store.pinHostKey(settings.campaignId, connection.hostKeySha256);
    if (session.timedOut) connection.close();
    try {
      for (const file of await connection.list()) {
        if (session.timedOut) return;
        if (!TAKEN.test(file.name) || file.name.includes('/')) continue;
        const key = { campaignId: settings.campaignId, name: file.name, size: file.size, mtime: file.mtime };
        if (await deps.store.pulledBefore(key)) continue;
        // Said and skipped, not downloaded: a file over the limit must not fail every later pull.
        if (file.size > deps.options.maxFileBytes) {
          taken.push({ name: file.name, batchId: null, error: 'larger than BATCH_MAX_FILE_MB' });
          continue;
        }
        const bytes = await connection.read(file.name, deps.options.maxFileBytes);
        const contentSha256 = crypto.createHash('sha256').update(bytes).digest('hex');
        if (await deps.store.pulledBefore({ ...key, contentSha256 })) continue;
        // The unique key decides between two instances pulling at once: only the claimant takes the file.
        if (!(await deps.store.claimPulled({ ...key, contentSha256 }, now()))) continue;
        // A failure here (the database gone) gives the claim up: the next pull takes the file again.
        const result = await deps.batches
          .upload({
            filename: file.name,
            bytes,
            clientIp: address,
            force: false,
            channel: 'pull',
            campaignId: settings.campaignId,
            submittedBy: `${pull.username}@${pull.host}`,
          })
          .catch(async (error: unknown) => {
            await deps.store.releasePulled({ ...key, contentSha256 }).catch(() => undefined);
            throw error;
          });
        await deps.store.settlePulled({ ...key, contentSha256 }, result.ok ? result.batch.id : null);
        taken.push({
          name: file.name,
          batchId: result.ok ? result.batch.id : null,
          error: result.ok ? null : result.reason,
        });
      }
    } finally {
      connection.close();
    }
  }
}

/** The address to dial: the host resolved, refused when any of its addresses is private (unless allowed). */
export async function checkedAddress(host: string, allowPrivate: boolean): Promise<string> {
  const addresses = await dns.lookup(host, { all: true });
  if (addresses.length === 0) throw new Error(`${host} does not resolve`);
  if (!allowPrivate) {
    for (const { address } of addresses) {
      const reason = forbiddenAddressReason(address);
      if (reason !== null) throw new Error(`${PRIVATE_ADDRESS_REFUSED} ${address} (${reason}, from ${host})`);
    }
  }
  return addresses[0].address;
}

/** A pull under way: its connection once open, and whether its time ran out. */
interface PullSession {
  connection: PullConnection | null;
  timedOut: boolean;
}

function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`the pull took longer than ${Math.round(ms / 1000)} s`));
    }, ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
