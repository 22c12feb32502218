import fs from 'node:fs';
import tls from 'node:tls';
import { FtpSrv, FileSystem, type FtpConnection } from 'ftp-srv';
import type { Logger } from '../logger';
import type { IntakeUser } from '../store/intake-store';
import { loginRefusal, type IntakeDoors } from './intake-doors';
import { completeUpload, directoryOf } from './intake-upload';
import { UploadRefused, type UploadDirectory, type UploadedFile } from './upload-directory';
import { normaliseClientIp } from '../auth/ip-address';

/** The FTP server's settings (FTP_*, TLS files, BATCH_MAX_FILE_MB). */
export interface FtpIntakeOptions {
  host: string;
  port: number;
  intakeDir: string;
  maxFileBytes: number;
  tls: { certFile: string; keyFile: string } | null;
  allowPlain: boolean;
  passivePorts: { min: number; max: number } | null;
  publicHost: string | null;
}

// Commands that would read files back, touch other paths or make the server connect out (PORT/EPRT:
// the FTP bounce) are refused outright; an upload user lists, stores and deletes, nothing else.
const REFUSED_COMMANDS = ['RETR', 'APPE', 'STOU', 'REST', 'MKD', 'RMD', 'RNFR', 'RNTO', 'SITE', 'PORT', 'EPRT'];

/** A file as ftp-srv's LIST formats it. */
function statOf(file: UploadedFile | null, name: string) {
  return {
    name,
    size: file?.size ?? 0,
    mtime: file?.mtime ?? new Date(),
    mode: file ? 0o100600 : 0o40700,
    isDirectory: () => file === null,
  };
}

/** ftp-srv's file system for one upload user: its own flat directory, list/upload/delete only. */
class IntakeFileSystem extends FileSystem {
  constructor(
    connection: FtpConnection,
    private readonly directory: UploadDirectory,
    private readonly maxFileBytes: number,
    private readonly complete: (name: string, bytes: Buffer) => Promise<{ keep: boolean }>,
  ) {
    super(connection, { root: directory.root, cwd: '/' });
  }

  override currentDirectory(): string {
    return '/';
  }

  override async get(fileName: string) {
    if (this.directory.isRoot(fileName)) return statOf(null, '/');
    const file = await this.directory.stat(fileName);
    if (!file) throw new UploadRefused(`${fileName}: no such file here`);
    return statOf(file, file.name);
  }

  override async list(path = '.') {
    if (!this.directory.isRoot(path)) throw new UploadRefused(`${path}: no such directory here`);
    return (await this.directory.list()).map((file) => statOf(file, file.name));
  }

  override async chdir(path = '/') {
    if (!this.directory.isRoot(path)) throw new UploadRefused(`${path}: no such directory here`);
    return '/';
  }

  override async write(fileName: string, { append, start }: { append?: boolean; start?: unknown } = {}) {
    if (append || start) throw new UploadRefused('appending and resuming are not offered');
    return this.directory.upload(fileName, this.maxFileBytes, this.complete);
  }

  override async read(): Promise<never> {
    throw new UploadRefused('files are not read back');
  }

  override async delete(path: string) {
    await this.directory.remove(path);
  }

  override async mkdir(): Promise<never> {
    throw new UploadRefused('directories are not offered');
  }

  override async rename(): Promise<never> {
    throw new UploadRefused('renaming is not offered');
  }

  override async chmod(): Promise<never> {
    throw new UploadRefused('permissions are not offered');
  }
}

/** ftp-srv's connection as far as our handlers reach into it (its types leave these out). */
interface ConnectionInternals {
  commandSocket: import('node:net').Socket;
  secure: boolean;
  ip: string;
  reply(code: number, message?: string): Promise<unknown>;
  commands: { handle(command: unknown): unknown; parse(message: string): { directive: string; arg: string | null } };
}

/** A log-in refused for a wrong credential or by the brake: the client's doing, not a fault of ours. */
class LoginRefused extends Error {}

/**
 * ftp-srv's error messages for a client's socket, not for anything of ours (ftp-srv 4.6): `log.error(err,
 * 'Client error')` on the control socket's error, and the two a reply to a socket the client reset meets.
 */
const FTP_CLIENT_SOCKET_ERRORS = new Set([
  'Client error',
  '[Process Letter] Socket Write Error',
  'Satisfy Parameters Error',
]);

/** The bunyan-style logger ftp-srv is given: `child`, `trace` … `fatal`. */
type FtpSrvLogger = Pick<Logger, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> & {
  child(bindings: Record<string, unknown>): FtpSrvLogger;
};

/**
 * Ours, for ftp-srv, but for two calls: ftp-srv logs a refused log-in as an error, stack and all, so every
 * guessed password would read as a fault of the service and page whoever watches errors — a refusal is logged
 * at info with its reason; and what a client's socket does to ftp-srv (`FTP_CLIENT_SOCKET_ERRORS`: a client
 * that resets its connection rather than sending QUIT) goes at trace, as our own `client-error` listener logs
 * it at debug already. Any other error as it comes.
 */
function ftpSrvLogger(logger: Logger): FtpSrvLogger {
  return {
    child: (bindings) => ftpSrvLogger(logger.child(bindings)),
    trace: logger.trace.bind(logger),
    debug: logger.debug.bind(logger),
    info: logger.info.bind(logger),
    warn: logger.warn.bind(logger),
    fatal: logger.fatal.bind(logger),
    error: ((first: unknown, ...rest: unknown[]) => {
      if (first instanceof LoginRefused) logger.info({ reason: first.message }, 'FTP log-in refused');
      else if (FTP_CLIENT_SOCKET_ERRORS.has(String(typeof first === 'string' ? first : rest[0])))
        logger.trace({ err: first, detail: rest }, 'FTP intake client error');
      else (logger.error as (...args: unknown[]) => void)(first, ...rest);
    }) as Logger['error'],
  };
}

/**
 * The FTP intake server (ftp-srv): upload users log in with their intake credentials (failures braked
 * like /transaction.edit), each in its own directory; a complete STOR becomes a batch with channel ftp.
 * With TLS files, explicit TLS (AUTH TLS) is offered and log-ins without it are refused unless allowed.
 */
export class FtpIntake {
  private server: FtpSrv | null = null;

  constructor(
    private readonly intake: IntakeDoors,
    private readonly options: FtpIntakeOptions,
    private readonly logger: Logger,
  ) {}

  /** Starts listening; resolves with the port. */
  async start(): Promise<number> {
    const { options } = this;
    const tlsOptions = options.tls
      ? { cert: fs.readFileSync(options.tls.certFile), key: fs.readFileSync(options.tls.keyFile) }
      : false;
    // ftp-srv adds its own SIGTERM/SIGINT handlers that close it behind our back: ours stop it in order.
    const signals = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;
    const before = new Map(signals.map((signal) => [signal, process.listeners(signal)]));
    const server = new FtpSrv({
      url: `ftp://${options.host}:${options.port}`,
      pasv_url: options.publicHost ?? options.host,
      pasv_min: options.passivePorts?.min ?? 1024,
      pasv_max: options.passivePorts?.max ?? 65535,
      anonymous: false,
      tls: tlsOptions || undefined,
      blacklist: REFUSED_COMMANDS,
      greeting: ['txedit impact.com file intake'],
      log: ftpSrvLogger(this.logger.child({ component: 'ftp-intake' })) as never,
    } as never);
    for (const signal of signals)
      for (const listener of process.listeners(signal))
        if (!before.get(signal)?.includes(listener)) process.removeListener(signal, listener);

    (server as unknown as import('node:events').EventEmitter).on(
      'connect',
      ({ connection }: { connection: FtpConnection }) =>
        this.guard(connection as unknown as ConnectionInternals, tlsOptions || null),
    );
    server.on('login', ({ connection, username, password }, resolve, reject) => {
      const ip = normaliseClientIp((connection as unknown as ConnectionInternals).ip ?? '');
      this.intake.login(String(username), String(password), ip).then((answer) => {
        if (!answer.ok) return reject(new LoginRefused(loginRefusal(answer)));
        resolve({ fs: this.fileSystem(connection, answer.user, ip) as never });
      }, reject);
    });
    server.on('client-error', ({ error }: { error: Error }) =>
      this.logger.debug({ err: error }, 'FTP intake client error'),
    );
    await server.listen();
    this.server = server;
    const address = (server as unknown as { server: import('node:net').Server }).server.address();
    return typeof address === 'object' && address ? address.port : options.port;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await server.close();
  }

  private fileSystem(connection: FtpConnection, user: IntakeUser, ip: string) {
    const directory = directoryOf(this.options.intakeDir, user);
    return new IntakeFileSystem(
      connection,
      directory,
      this.options.maxFileBytes,
      // In FTP a file ends when its data connection does: a client that dies mid-upload closes both its
      // connections, so a file whose control connection is gone by then is taken as cut short.
      completeUpload(this.intake, user, 'ftp', ip, () => {
        const socket = (connection as unknown as ConnectionInternals).commandSocket;
        return !socket.destroyed && socket.readable;
      }),
    );
  }

  /**
   * Our own AUTH TLS, and the refusal of plain log-ins. ftp-srv answers 234 and upgrades the socket only
   * once the answer has been flushed: a client in another process may send its ClientHello in between,
   * which ftp-srv then reads as a command ("wrong version number" at the client). Here the socket is
   * paused, 234 written and the socket wrapped in the same turn, so the handshake's first byte is TLS's.
   */
  private guard(connection: ConnectionInternals, tlsOptions: { cert: Buffer; key: Buffer } | null): void {
    const commands = connection.commands;
    const handle = commands.handle.bind(commands);
    const requireTls = tlsOptions !== null && !this.options.allowPlain;
    commands.handle = (raw: unknown) => {
      const command = typeof raw === 'string' ? commands.parse(raw) : (raw as { directive: string; arg: string });
      if (command.directive === 'AUTH' && tlsOptions && /^(TLS|SSL|TLS-C)$/i.test(command.arg ?? '')) {
        if (connection.secure) return connection.reply(503, 'TLS is already on');
        upgrade(connection, tlsOptions);
        return undefined;
      }
      if ((command.directive === 'USER' || command.directive === 'PASS') && requireTls && !connection.secure)
        return connection.reply(530, 'log in over TLS: send AUTH TLS first (plain FTP is refused)');
      return handle(command);
    };
  }
}

function upgrade(connection: ConnectionInternals, options: { cert: Buffer; key: Buffer }): void {
  const plain = connection.commandSocket;
  plain.pause();
  plain.write('234 AUTH TLS successful\r\n');
  const secure = new tls.TLSSocket(plain, { isServer: true, secureContext: tls.createSecureContext(options) });
  // As ftp-srv does: the connection's listeners stay on the plain socket, the secure one feeds them.
  for (const event of ['data', 'timeout', 'end', 'close', 'drain', 'error'])
    secure.on(event, (...args: unknown[]) => plain.emit(event, ...args));
  connection.commandSocket = secure;
  connection.secure = true;
}
