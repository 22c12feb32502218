import crypto from 'node:crypto';
import bcrypt from 'bcrypt';
import { BoundedConcurrency } from './bounded-concurrency';
import { LowPriorityCompares } from './low-priority-compares';
import { RecentKeys } from './recent-keys';

/** Settings of the verified-credential cache. */
export interface PasswordVerifierOptions {
  /** Cost of the stand-in hash used to spend compare time on unknown ids. */
  bcryptCost: number;
  cacheSize: number;
  cacheTtlMs: number;
  /** bcrypt compares allowed at once; more wait in a bounded queue. */
  maxConcurrentCompares?: number;
  maxQueuedCompares?: number;
  /**
   * Uncached compares one client may have under way at once (default: unlimited). Past it, a client that
   * failed lately is refused (`ClientBusyError`); any other waits for one of its own to end, at most
   * `maxQueuedCompares` of its checks waiting.
   */
  maxComparesPerClient?: number;
  now?: () => number;
  /** The compare itself (tests count calls); native bcrypt's async compare by default. */
  compare?: (password: string, hash: string) => Promise<boolean>;
  /**
   * The compare for a client that failed lately: by default in a separate process at the lowest CPU
   * priority (`LowPriorityCompares`); with `lowPriority: false`, or when `compare` is given and this is
   * not, the same as `compare`.
   */
  suspectCompare?: (password: string, hash: string) => Promise<boolean>;
  /** False: suspects' compares run in-process at normal priority (still paced by `suspectShare`). */
  lowPriority?: boolean;
  /**
   * The share (0–1] of one core the compares of suspect clients may use together: after one that took
   * t ms, the next starts t × (1 / share − 1) ms later at the earliest. Default 1 (one core, no rest).
   */
  suspectShare?: number;
  /** A monotonic clock in ms for that pacing (tests drive it); performance.now() by default. */
  clock?: () => number;
  /** How long a client stays suspect after a failed check (ms; the rate-limit window). */
  suspectMs?: number;
  /** Clients remembered as suspect at most (the oldest is forgotten first). */
  maxSuspects?: number;
  /** How long a client and a campaign stay known after a successful check (ms; default `suspectMs`). */
  knownMs?: number;
  /** Clients, and campaigns, remembered as known at most (each; the least recently successful is forgotten first). */
  maxKnown?: number;
  /**
   * How long a credential that passed a compare still vouches for itself under a braked campaign after its
   * cache entry expired (ms; default 24 h): the compare runs again, but it is not made to wait for a turn
   * behind a flood's guesses. Never longer than the stored hash stays the same (the hash is in the key).
   */
  vouchedMs?: number;
  /** Told when the low-priority compare process is in trouble (compares then run in-process). */
  onTrouble?: (message: string, error?: unknown) => void;
}

// bcrypt hashes only the first 72 bytes of its input; longer passwords are refused when set.
export const MAX_PASSWORD_BYTES = 72;

/**
 * Where an uncached compare queues, most urgent first: a client with a recent success on this campaign (or
 * none: a batch, the admin API), a campaign with a recent success, anyone else (an unknown id's compare
 * time too). Each has a queue of its own.
 */
export const ComparePriority = { knownClient: 0, knownCampaign: 1, unknown: 2 } as const;
export type ComparePriority = (typeof ComparePriority)[keyof typeof ComparePriority];

/**
 * Checks campaign passwords against their bcrypt hashes, remembering successes.
 *
 * A bcrypt compare costs tens to hundreds of milliseconds, so a merchant's burst of edits would be
 * capped at a handful per second. After a successful compare we remember an HMAC-SHA256 of
 * (campaign, stored hash, password) under a random per-process key — never the password — for a
 * bounded time and count. A changed hash misses by construction; failures are never cached.
 */
export class PasswordVerifier {
  private readonly key = crypto.randomBytes(32);
  private readonly verified = new Map<string, number>();
  /** Keyed digests of the passwords in `verified`, whatever their campaign, with the latest expiry. */
  private readonly verifiedPasswords = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<boolean>>();
  private readonly perClient = new Map<string, number>();
  /** Per client at its share: the checks waiting for one of its compares to end, first come first served. */
  private readonly waitingForTurn = new Map<string, Array<() => void>>();
  /** Per client with uncached compares under way: how many are for each password (by `passwordDigestOf`). */
  private readonly comparingPasswords = new Map<string, Map<string, number>>();
  /** Clients with a failed check in the window, and until when their compares stay at low priority. */
  private readonly suspects: RecentKeys<string>;
  /** Digests (campaign, stored hash, password) that passed a compare lately, whose cache entry may have expired. */
  private readonly vouched: RecentKeys<string>;
  /** Campaigns with a successful check lately, and until when they count as known. */
  private readonly knownCampaigns: RecentKeys<number>;
  /** Clients with a successful check of a campaign lately (`campaign\0client`): what a campaign's brake trusts. */
  private readonly knownClientsOfCampaigns: RecentKeys<string>;
  private readonly now: () => number;
  private dummyHash: Promise<string> | undefined;
  private readonly gate: BoundedConcurrency;
  // Its own gate: a slow low-priority compare must never hold up a first check at normal priority.
  private readonly suspectGate: BoundedConcurrency;
  private readonly lowPriorityProcess: LowPriorityCompares | undefined;
  private readonly compare: (password: string, hash: string) => Promise<boolean>;
  private readonly suspectCompare: (password: string, hash: string) => Promise<boolean>;

  constructor(private readonly options: PasswordVerifierOptions) {
    this.now = options.now ?? Date.now;
    const suspectMs = options.suspectMs ?? 900_000;
    this.suspects = new RecentKeys(suspectMs, options.maxSuspects ?? 10_000, this.now);
    this.knownCampaigns = new RecentKeys(options.knownMs ?? suspectMs, options.maxKnown ?? 10_000, this.now);
    this.knownClientsOfCampaigns = new RecentKeys(options.knownMs ?? suspectMs, options.maxKnown ?? 10_000, this.now);
    this.vouched = new RecentKeys(
      options.vouchedMs ?? 86_400_000,
      Math.max(1, Math.min(options.cacheSize, 100_000)),
      this.now,
    );
    // Three queues (`ComparePriority`): compares for strangers cannot fill the queue of known merchants.
    const levels = Object.keys(ComparePriority).length;
    this.gate = new BoundedConcurrency(options.maxConcurrentCompares ?? 2, options.maxQueuedCompares ?? 1000, {
      levels,
    });
    // One at a time, within a share of one core: however many clients fail, together they take no more.
    this.suspectGate = new BoundedConcurrency(1, options.maxQueuedCompares ?? 1000, {
      share: options.suspectShare ?? 1,
      clock: options.clock,
      levels,
    });
    this.compare = options.compare ?? ((password, hash) => bcrypt.compare(password, hash));
    if (options.suspectCompare) this.suspectCompare = options.suspectCompare;
    else if (options.compare || options.lowPriority === false) this.suspectCompare = this.compare;
    else {
      const compares = new LowPriorityCompares({ onTrouble: options.onTrouble, now: options.now });
      this.lowPriorityProcess = compares;
      this.suspectCompare = (password, hash) => compares.compare(password, hash);
    }
  }

  /** Ends the low-priority compare process, if one was started. */
  async close(): Promise<void> {
    await this.lowPriorityProcess?.close();
  }

  /** The low-priority compare process's pid while it runs (tests read its priority). */
  get lowPriorityPid(): number | undefined {
    return this.lowPriorityProcess?.pid;
  }

  /**
   * True when `password` matches `hash` (a null hash or password never matches). `client` is the key the
   * caller counts the client under (`clientKeyOf`); none for batches and the admin API.
   */
  async verify(campaignId: number, hash: string | null, password: string | null, client?: string): Promise<boolean> {
    if (hash === null || password === null) return false;
    if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) return false;
    const digest = this.digestOf(campaignId, hash, password);
    if (this.cached(digest, password, hash)) {
      this.succeeded(client, campaignId);
      return true;
    }
    const priority = this.priorityOf(client, campaignId);
    const judged = (ok: boolean) => {
      if (ok) this.succeeded(client, campaignId);
      else this.suspect(client);
      return ok;
    };
    if (this.inFlight.has(digest)) return judged(await this.compareOnce(digest, password, hash));
    // Judged before the client's turn is given back: a check waiting for that turn sees a failure.
    return this.asClient(
      client,
      // A check that waited for its turn may find its credential verified meanwhile (or being compared).
      (lowPriority) =>
        (this.cached(digest, password, hash)
          ? Promise.resolve(true)
          : this.compareOnce(digest, password, hash, lowPriority, priority)
        ).then(judged),
      password,
      priority === ComparePriority.knownClient,
    );
  }

  /** bcrypt compares under way and waiting: in the normal queue, and in the suspects' queue. */
  compareLoad(): { normal: { running: number; waiting: number }; suspect: { running: number; waiting: number } } {
    return { normal: this.gate.load(), suspect: this.suspectGate.load() };
  }

  /**
   * True when `verify` would answer true from the cache, without a compare: a caller holding row locks
   * asks this, because a bcrypt compare must never run under a lock. False says nothing either way.
   * A `client` given is remembered as known when the answer is true, as `verify` would.
   */
  isKnown(campaignId: number, hash: string | null, password: string | null, client?: string): boolean {
    if (hash === null || password === null || Buffer.byteLength(password) > MAX_PASSWORD_BYTES) return false;
    const known = this.cached(this.digestOf(campaignId, hash, password), password, hash);
    if (known) this.succeeded(client, campaignId);
    return known;
  }

  /**
   * Whether this very credential (campaign, stored hash, password) passed a compare lately (`vouchedMs`),
   * or is being compared now: under a braked campaign it does not wait for a turn behind strangers'
   * guesses — it is either right (it passed against this hash before) or shares the compare under way.
   * Its compare still runs when the cache entry has expired; nothing is answered from this alone.
   */
  isVouchedFor(campaignId: number, hash: string | null, password: string | null): boolean {
    if (hash === null || password === null || Buffer.byteLength(password) > MAX_PASSWORD_BYTES) return false;
    const digest = this.digestOf(campaignId, hash, password);
    return this.vouched.has(digest) || this.inFlight.has(digest);
  }

  /**
   * Whether `client` passed a check of this campaign lately (within `knownMs`): its uncached compares for
   * the campaign queue first, and the campaign's brake lets it through. A success on another campaign does
   * not count — a guesser with a campaign of its own (or any password it knows) could otherwise buy every
   * address it has a cheap cached success, and then a place ahead of the merchants for each of its guesses.
   */
  isKnownClientOf(client: string | undefined, campaignId: number): boolean {
    return client !== undefined && this.knownClientsOfCampaigns.has(`${campaignId}\0${client}`);
  }

  /** Where an uncached compare for `client` on `campaignId` queues (`ComparePriority`). */
  priorityOf(client: string | undefined, campaignId: number | null): ComparePriority {
    if (client === undefined) return ComparePriority.knownClient;
    if (campaignId === null) return ComparePriority.unknown;
    if (this.isKnownClientOf(client, campaignId)) return ComparePriority.knownClient;
    if (this.knownCampaigns.has(campaignId)) return ComparePriority.knownCampaign;
    return ComparePriority.unknown;
  }

  /**
   * Whether `password` was verified lately for some campaign: a cheap first filter before a caller takes
   * locks in the hope that `isKnown` will say yes. Never true for a password that never passed.
   */
  mayBeKnown(password: string | null): boolean {
    if (password === null || this.verifiedPasswords.size === 0) return false;
    return this.knownPassword(this.passwordDigestOf(password));
  }

  private knownPassword(passwordDigest: string): boolean {
    const expires = this.verifiedPasswords.get(passwordDigest);
    return expires !== undefined && expires > this.now();
  }

  /**
   * True when a check of `password` from `client` could only be refused as busy (`ClientBusyError`) once it
   * reached its compare: the client failed lately (a suspect), already has `maxComparesPerClient` compares
   * under way, none of them for this password, and the cache does not know the password. The core then
   * refuses it before reading anything — `rate limited`, as that compare would have answered — so a
   * flood's refusals cost no database work. Anything else (a fresh client, a merchant whose corrected
   * password is being compared, a password known to the cache) goes on as usual.
   */
  wouldBeBusy(client: string | undefined, password: string | null): boolean {
    if (client === undefined || password === null) return false;
    if (!this.atShare(this.perClient.get(client) ?? 0) || !this.isSuspect(client)) return false;
    const passwordDigest = this.passwordDigestOf(password);
    return !this.knownPassword(passwordDigest) && !this.comparingPasswords.get(client)?.has(passwordDigest);
  }

  private digestOf(campaignId: number, hash: string, password: string): string {
    return crypto.createHmac('sha256', this.key).update(`${campaignId}\0${hash}\0${password}`).digest('base64');
  }

  private passwordDigestOf(password: string): string {
    return crypto.createHmac('sha256', this.key).update(`password\0${password}`).digest('base64');
  }

  /** A live cache entry (refreshed ahead of its end); an expired one is dropped. */
  private cached(digest: string, password: string, hash: string): boolean {
    const expires = this.verified.get(digest);
    if (expires === undefined) return false;
    const left = expires - this.now();
    if (left <= 0) {
      this.verified.delete(digest);
      return false;
    }
    // Refresh ahead: near the end of an entry's life, one background compare renews it, so a busy
    // campaign never sees every concurrent request queue for bcrypt at the moment it expires. Its
    // credential is a known one: it queues first.
    if (left < this.options.cacheTtlMs / 5)
      this.compareOnce(digest, password, hash, false, ComparePriority.knownClient).catch(() => undefined);
    return true;
  }

  /**
   * Runs an uncached compare within the client's share: a flood from one address must not fill the bcrypt
   * queue ahead of everyone else's first checks. No client (batches, the admin API): no share, and normal
   * priority; otherwise `compare` is told whether to run at low priority (see `isSuspect`). `knownClient`:
   * the client passed a check of this campaign lately, so its concurrent compares are not taken for guesses.
   */
  private async asClient<T>(
    client: string | undefined,
    compare: (lowPriority: boolean) => Promise<T>,
    password?: string,
    knownClient = false,
  ): Promise<T> {
    if (client === undefined) return compare(false);
    // Synchronous when a turn is free: the compare starts in this very call, as it always did.
    const waiting = this.takeTurn(client);
    if (waiting) await waiting;
    const others = (this.perClient.get(client) ?? 1) - 1;
    const passwordDigest = password === undefined ? undefined : this.passwordDigestOf(password);
    if (passwordDigest !== undefined) this.countComparing(client, passwordDigest, 1);
    try {
      // A second compare while one is under way is as likely a guess as one after a failure — unless the
      // client passed a check of this campaign lately (a merchant re-checking after a restart or a new hash).
      return await compare((others > 0 && !knownClient) || this.isSuspect(client));
    } finally {
      if (passwordDigest !== undefined) this.countComparing(client, passwordDigest, -1);
      this.endTurn(client);
    }
  }

  /**
   * Takes one of `client`'s turns of compares (`maxComparesPerClient` under way at once). At its share, a
   * client that failed lately is refused (`ClientBusyError`: a flood's extra guesses cost nothing), and any
   * other waits for one of its compares to end — a merchant checking the passwords of several campaigns at
   * once (after a restart, behind a NAT) is never refused for it — up to `maxQueuedCompares` waiting. A
   * waiter whose client has failed meanwhile is refused when its turn comes, and passes the turn on.
   */
  private takeTurn(client: string): Promise<void> | null {
    const underWay = this.perClient.get(client) ?? 0;
    if (!this.atShare(underWay)) {
      this.perClient.set(client, underWay + 1);
      return null;
    }
    const waiting = this.waitingForTurn.get(client) ?? [];
    if (this.isSuspect(client) || waiting.length >= (this.options.maxQueuedCompares ?? 1000))
      throw new ClientBusyError('too many password checks from this client');
    this.waitingForTurn.set(client, waiting);
    // Woken by `endTurn` holding the turn of the compare that ended.
    return new Promise<void>((resolve) => waiting.push(resolve)).then(() => {
      if (!this.isSuspect(client)) return;
      this.endTurn(client);
      throw new ClientBusyError('too many password checks from this client');
    });
  }

  /** Gives a turn back: to the client's first waiting check, or to the share. */
  private endTurn(client: string): void {
    const waiting = this.waitingForTurn.get(client);
    const next = waiting?.shift();
    if (waiting?.length === 0) this.waitingForTurn.delete(client);
    if (next) {
      next();
      return;
    }
    const left = (this.perClient.get(client) ?? 1) - 1;
    if (left <= 0) this.perClient.delete(client);
    else this.perClient.set(client, left);
  }

  /** Whether a client with `underWay` uncached compares may start no more (`maxComparesPerClient`). */
  private atShare(underWay: number): boolean {
    return underWay >= (this.options.maxComparesPerClient ?? Infinity);
  }

  private countComparing(client: string, passwordDigest: string, change: 1 | -1): void {
    let counts = this.comparingPasswords.get(client);
    if (!counts) this.comparingPasswords.set(client, (counts = new Map()));
    const count = (counts.get(passwordDigest) ?? 0) + change;
    if (count > 0) counts.set(passwordDigest, count);
    else counts.delete(passwordDigest);
    if (counts.size === 0) this.comparingPasswords.delete(client);
  }

  /**
   * One compare per digest at a time: concurrent requests with the same campaign, hash and password
   * (a merchant's burst at start or after expiry) wait for the same compare instead of queueing one
   * each. Each caller still waits the full compare time.
   */
  private compareOnce(
    digest: string,
    password: string,
    hash: string,
    lowPriority = false,
    priority: ComparePriority = ComparePriority.knownClient,
  ): Promise<boolean> {
    const running = this.inFlight.get(digest);
    if (running) return running;
    const compare = this.runCompare(lowPriority, password, hash, priority)
      .then((ok) => {
        if (ok) this.remember(digest, password);
        return ok;
      })
      .finally(() => this.inFlight.delete(digest));
    this.inFlight.set(digest, compare);
    return compare;
  }

  /**
   * Spends the time of one compare without a real hash, so unknown ids cost what a wrong password costs —
   * within the client's share of compares, as a wrong password's would be.
   */
  async spendCompareTime(client?: string): Promise<void> {
    this.dummyHash ??= bcrypt.hash(crypto.randomBytes(16).toString('hex'), this.options.bcryptCost);
    const dummy = await this.dummyHash;
    const priority = this.priorityOf(client, null);
    await this.asClient(client, (lowPriority) =>
      this.runCompare(lowPriority, 'not-the-password', dummy, priority).then(() => this.suspect(client)),
    );
  }

  /**
   * One compare through its gate: a suspect's in the suspects' own (paced, low priority), anyone else's in
   * the main one; in either, in the queue of its `priority`.
   */
  private runCompare(
    lowPriority: boolean,
    password: string,
    hash: string,
    priority: ComparePriority,
  ): Promise<boolean> {
    return lowPriority
      ? this.suspectGate.run(() => this.suspectCompare(password, hash), priority)
      : this.gate.run(() => this.compare(password, hash), priority);
  }

  /**
   * A client whose check failed lately: its next uncached compares run at low priority, so a flood of wrong
   * passwords (or unknown ids) spends idle CPU only. A client's first compare — before any failed, with no
   * other of its own under way — runs at normal priority: a merchant's first check after a restart is not
   * slowed down.
   */
  private isSuspect(client: string | undefined): boolean {
    return client !== undefined && this.suspects.has(client);
  }

  private suspect(client: string | undefined): void {
    if (client !== undefined) this.suspects.note(client);
  }

  /** A client and a campaign that passed a check are known for `knownMs`. */
  private succeeded(client: string | undefined, campaignId: number): void {
    // Noted lazily: the success path passes here on every request.
    if (client !== undefined) {
      this.knownClientsOfCampaigns.note(`${campaignId}\0${client}`, true);
    }
    this.knownCampaigns.note(campaignId, true);
  }

  private remember(digest: string, password: string): void {
    if (this.options.cacheSize <= 0 || this.options.cacheTtlMs <= 0) return;
    this.vouched.note(digest, true);
    const expires = this.now() + this.options.cacheTtlMs;
    for (const [cache, key] of [
      [this.verified, digest],
      [this.verifiedPasswords, this.passwordDigestOf(password)],
    ] as const) {
      if (cache.size >= this.options.cacheSize && !cache.has(key)) {
        const oldest = cache.keys().next().value;
        if (oldest !== undefined) cache.delete(oldest);
      }
      cache.delete(key); // re-inserted at the end: eviction drops the least recently verified
      cache.set(key, expires);
    }
  }
}

/** Thrown when one client already has its share of uncached password compares under way. */
export class ClientBusyError extends Error {}

/** Hashes a new campaign password. */
export function hashPassword(password: string, cost: number): Promise<string> {
  return bcrypt.hash(password, cost);
}
