import fs from 'node:fs';

// Linux reports CPU times in clock ticks; USER_HZ is 100 on every mainstream kernel build.
const TICKS_PER_SECOND = 100;

/** Resident set size of a process in bytes (VmRSS of /proc/PID/status), or null when it is gone. */
export function readRssBytes(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** CPU seconds (user + system, all threads) a process has used so far, or null when it is gone. */
export function readCpuSeconds(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields are counted after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** CPU seconds all cores of the machine have been busy (not idle, not waiting for I/O) since boot. */
export function readMachineBusySeconds(): number {
  const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
  const total = fields.slice(0, 8).reduce((sum, value) => sum + value, 0);
  return (total - fields[3] - fields[4]) / TICKS_PER_SECOND;
}

/**
 * Waits (at most `maxMs`) until the machine is quiet — under 25 % of its cores busy over one second —
 * so a run does not start in the middle of someone else's build. Returns the busy share last seen.
 */
export async function waitForQuietMachine(cores: number, maxMs: number): Promise<number> {
  if (maxMs <= 0) return 0;
  const deadline = Date.now() + maxMs;
  let share = 1;
  do {
    const before = readMachineBusySeconds();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    share = (readMachineBusySeconds() - before) / cores;
  } while (share > 0.25 && Date.now() < deadline);
  return share;
}

/** The pid of the local MariaDB/MySQL server when it runs on this machine (for its CPU share), else null. */
export function findDatabaseServerPid(): number | null {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const name = fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (name === 'mariadbd' || name === 'mysqld') return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return null;
}

/** What a sampler saw during one measured run. */
export interface ResourceUsage {
  /** Largest VmRSS sampled, MB (1 MB = 2^20 bytes). */
  rssMaxMb: number | null;
  /** Largest size of the SQLite database's WAL file sampled, MB (null: not SQLite). */
  walMaxMb: number | null;
  /** CPU seconds each watched process used during the run. */
  cpuSeconds: Record<string, number | null>;
  /** This (load-generating) process's CPU seconds during the run. */
  clientCpuSeconds: number;
  /** CPU seconds used by everything else on the machine during the run (other users of a shared box). */
  otherCpuSeconds: number;
  wallSeconds: number;
}

/**
 * Samples a server's VmRSS (and a SQLite database's WAL file size) every 100 ms while a run lasts, and the
 * CPU time of the server, the database server and this process between start and stop.
 */
export class ResourceSampler {
  private maxRss = 0;
  private maxWal = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly cpuAtStart: Record<string, number | null>;
  private readonly clientAtStart = process.cpuUsage();
  private readonly startedAt = process.hrtime.bigint();
  private readonly machineAtStart = readMachineBusySeconds();

  constructor(
    private readonly serverPid: number,
    private readonly watched: Record<string, number | null>,
    private readonly walFile: string | null = null,
  ) {
    this.cpuAtStart = Object.fromEntries(
      Object.entries(watched).map(([name, pid]) => [name, pid === null ? null : readCpuSeconds(pid)]),
    );
    this.sample();
    this.timer = setInterval(() => this.sample(), 100);
  }

  private sample(): void {
    const rss = readRssBytes(this.serverPid);
    if (rss !== null && rss > this.maxRss) this.maxRss = rss;
    if (this.walFile !== null) this.maxWal = Math.max(this.maxWal, fileBytes(this.walFile));
  }

  /** Ends sampling and returns what was seen. */
  stop(): ResourceUsage {
    clearInterval(this.timer);
    this.sample();
    const client = process.cpuUsage(this.clientAtStart);
    const cpuSeconds: Record<string, number | null> = {};
    for (const [name, pid] of Object.entries(this.watched)) {
      const now = pid === null ? null : readCpuSeconds(pid);
      const before = this.cpuAtStart[name];
      cpuSeconds[name] = now === null || before === null || before === undefined ? null : now - before;
    }
    const clientCpuSeconds = (client.user + client.system) / 1e6;
    const ours = Object.values(cpuSeconds).reduce<number>((sum, value) => sum + (value ?? 0), clientCpuSeconds);
    return {
      rssMaxMb: this.maxRss > 0 ? this.maxRss / 2 ** 20 : null,
      walMaxMb: this.walFile === null ? null : this.maxWal / 2 ** 20,
      cpuSeconds,
      clientCpuSeconds,
      otherCpuSeconds: Math.max(0, readMachineBusySeconds() - this.machineAtStart - ours),
      wallSeconds: Number(process.hrtime.bigint() - this.startedAt) / 1e9,
    };
  }
}

/** A file's size in bytes, 0 when it is not there (a WAL comes and goes). */
function fileBytes(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * Waits until a process is idle (under 5 % of a core for half a second), at most `maxMs`: after a
 * wrong-password run the server still owes queued bcrypt compares, which must not bill the next run.
 */
export async function waitUntilIdle(pid: number, maxMs = 30_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  let previous = readCpuSeconds(pid);
  while (previous !== null && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = readCpuSeconds(pid);
    if (now === null || now - previous < 0.025) return;
    previous = now;
  }
}
