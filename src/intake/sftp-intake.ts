import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { Server, utils, type Connection, type SFTPWrapper } from 'ssh2';
import type { Logger } from '../logger';
import type { IntakeUser } from '../store/intake-store';
import { loginRefusal, type IntakeDoors } from './intake-doors';
import { completeUpload, directoryOf } from './intake-upload';
import type { UploadDirectory, UploadedFile } from './upload-directory';
import { normaliseClientIp } from '../auth/ip-address';

const { OPEN_MODE, STATUS_CODE } = utils.sftp;

/** The SFTP server's settings (SFTP_*, INTAKE_DIR, BATCH_MAX_FILE_MB). */
export interface SftpIntakeOptions {
  host: string;
  port: number;
  intakeDir: string;
  maxFileBytes: number;
  hostKeyFile: string | null;
}

/** The host key: SFTP_HOST_KEY_FILE, or one generated on first start and kept under INTAKE_DIR (0600). */
export function sftpHostKey(options: Pick<SftpIntakeOptions, 'hostKeyFile' | 'intakeDir'>): Buffer {
  if (options.hostKeyFile) return fs.readFileSync(options.hostKeyFile);
  const file = path.join(options.intakeDir, 'sftp-host-key');
  // A generated key that ssh2 cannot read never served a client, so no client can have pinned it: replace it.
  if (fs.existsSync(file) && !parses(fs.readFileSync(file))) fs.unlinkSync(file);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(options.intakeDir, { recursive: true, mode: 0o700 });
    const key = readableKeyPair();
    // Written whole under a name of its own, then linked into place: another instance (or test) starting
    // at the same moment sees no key or the whole key, never a half-written one. The first link wins.
    const draft = `${file}.${process.pid}.${crypto.randomBytes(6).toString('hex')}`;
    fs.writeFileSync(draft, key, { flag: 'wx', mode: 0o600 });
    try {
      fs.linkSync(draft, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      fs.unlinkSync(draft);
    }
  }
  return fs.readFileSync(file);
}

/**
 * A new ed25519 private key that ssh2 can read back. About 1 in 256 of ssh2's generated ed25519 keys cannot
 * be (it strips a public key's leading zero byte: mscdex/ssh2#1390, #1513), and a server given one fails to
 * start with "Malformed OpenSSH private key" — so generate again.
 */
function readableKeyPair(): string {
  for (let attempt = 0; attempt < 64; attempt++) {
    const pair = utils.generateKeyPairSync('ed25519');
    if (parses(pair.private) && parses(pair.public)) return pair.private;
  }
  throw new Error('could not generate a readable SFTP host key');
}

function parses(key: string | Buffer): boolean {
  return !(utils.parseKey(key) instanceof Error);
}

const attrsOf = (file: UploadedFile | null) => {
  const mtime = Math.floor((file?.mtime.getTime() ?? Date.now()) / 1000);
  return { mode: file ? 0o100600 : 0o40700, uid: 0, gid: 0, size: file?.size ?? 0, atime: mtime, mtime };
};

const longname = (file: UploadedFile) =>
  `-rw------- 1 intake intake ${file.size} ${file.mtime.toISOString()} ${file.name}`;

/**
 * The SFTP intake server (ssh2): password log-in with the intake credentials (failures braked like
 * /transaction.edit), a virtual root that is the user's own upload directory, and only these requests:
 * open for writing, write in order, close (the file becomes a batch, channel sftp), list, stat, remove.
 * Everything else is answered with an SFTP status (permission denied or unsupported).
 */
export class SftpIntake {
  private server: Server | null = null;
  private readonly clients = new Set<Connection>();

  constructor(
    private readonly intake: IntakeDoors,
    private readonly options: SftpIntakeOptions,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<number> {
    const server = new Server({ hostKeys: [sftpHostKey(this.options)] }, (client, info) =>
      this.client(client, normaliseClientIp(info.ip)),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => resolve());
    });
    server.on('error', (error: Error) => this.logger.warn({ err: error }, 'SFTP intake error'));
    this.server = server;
    const address = server.address();
    return typeof address === 'object' && address ? address.port : this.options.port;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // A session still open is cut: its open files are dropped, never taken.
    for (const client of this.clients) client.end();
    await closed;
  }

  private client(client: Connection, ip: string): void {
    let user: IntakeUser | null = null;
    this.clients.add(client);
    client.on('close', () => this.clients.delete(client));
    client.on('error', (error) => this.logger.debug({ err: error }, 'SFTP intake client error'));
    client.on('authentication', (context) => {
      if (context.method !== 'password') return context.reject(['password']);
      this.intake.login(context.username, context.password, ip).then(
        (answer) => {
          if (!answer.ok) {
            // As the FTP server does: a refusal is the client's doing (info); a check that failed is ours (error).
            this.logger.info({ ip, reason: loginRefusal(answer) }, 'SFTP log-in refused');
            return context.reject(['password']);
          }
          user = answer.user;
          context.accept();
        },
        (error: unknown) => {
          this.logger.error({ err: error, ip }, 'SFTP log-in could not be checked');
          context.reject(['password']);
        },
      );
    });
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('sftp', (acceptSftp) => {
          if (user) this.serve(acceptSftp(), user, ip);
        });
      });
    });
  }

  private serve(sftp: SFTPWrapper, user: IntakeUser, ip: string): void {
    const directory: UploadDirectory = directoryOf(this.options.intakeDir, user);
    const complete = completeUpload(this.intake, user, 'sftp', ip);
    const uploads = new Map<string, { stream: Writable; offset: number }>();
    const listings = new Map<string, boolean>();
    let nextHandle = 0;
    const newHandle = () => Buffer.from(String(++nextHandle));
    const fail = (reqId: number, error: unknown) =>
      sftp.status(reqId, STATUS_CODE.FAILURE, error instanceof Error ? error.message : String(error));
    const denied = (reqId: number) => sftp.status(reqId, STATUS_CODE.PERMISSION_DENIED, 'not offered');

    sftp.on('REALPATH', (reqId, requested) => {
      if (directory.isRoot(requested))
        return sftp.name(reqId, [{ filename: '/', longname: '/', attrs: attrsOf(null) }]);
      try {
        const name = directory.nameOf(requested);
        sftp.name(reqId, [{ filename: `/${name}`, longname: `/${name}`, attrs: attrsOf(null) }]);
      } catch {
        sftp.status(reqId, STATUS_CODE.NO_SUCH_FILE, 'no such file here');
      }
    });
    const stat = (reqId: number, requested: string) => {
      if (directory.isRoot(requested)) return sftp.attrs(reqId, attrsOf(null));
      directory.stat(requested).then(
        (file) => (file ? sftp.attrs(reqId, attrsOf(file)) : sftp.status(reqId, STATUS_CODE.NO_SUCH_FILE)),
        () => sftp.status(reqId, STATUS_CODE.NO_SUCH_FILE, 'no such file here'),
      );
    };
    sftp.on('STAT', stat);
    sftp.on('LSTAT', stat);
    sftp.on('OPEN', (reqId, filename, flags) => {
      // Writing a new file from its start only: no reading back, no appending.
      if (flags & OPEN_MODE.READ || flags & OPEN_MODE.APPEND || !(flags & OPEN_MODE.WRITE)) return denied(reqId);
      directory.upload(filename, this.options.maxFileBytes, complete).then(
        (stream) => {
          const handle = newHandle();
          stream.on('error', () => undefined);
          uploads.set(handle.toString(), { stream, offset: 0 });
          sftp.handle(reqId, handle);
        },
        (error) => fail(reqId, error),
      );
    });
    sftp.on('WRITE', (reqId, handle, offset, data) => {
      const upload = uploads.get(handle.toString());
      if (!upload) return sftp.status(reqId, STATUS_CODE.FAILURE, 'no such handle');
      if (offset !== upload.offset) return sftp.status(reqId, STATUS_CODE.FAILURE, 'writes must follow in order');
      upload.offset += data.length;
      upload.stream.write(data, (error) => (error ? fail(reqId, error) : sftp.status(reqId, STATUS_CODE.OK)));
    });
    sftp.on('FSTAT', (reqId, handle) => {
      const upload = uploads.get(handle.toString());
      sftp.attrs(reqId, { ...attrsOf(null), mode: 0o100600, size: upload?.offset ?? 0 });
    });
    sftp.on('FSETSTAT', (reqId) => sftp.status(reqId, STATUS_CODE.OK));
    sftp.on('SETSTAT', (reqId) => sftp.status(reqId, STATUS_CODE.OK));
    sftp.on('CLOSE', (reqId, handle) => {
      const key = handle.toString();
      if (listings.delete(key)) return sftp.status(reqId, STATUS_CODE.OK);
      const upload = uploads.get(key);
      if (!upload) return sftp.status(reqId, STATUS_CODE.FAILURE, 'no such handle');
      uploads.delete(key);
      // The file is complete once the client closes it: then (and only then) it becomes a batch.
      upload.stream.end((error?: Error | null) => (error ? fail(reqId, error) : sftp.status(reqId, STATUS_CODE.OK)));
    });
    sftp.on('OPENDIR', (reqId, requested) => {
      if (!directory.isRoot(requested)) return sftp.status(reqId, STATUS_CODE.NO_SUCH_FILE, 'no such directory here');
      const handle = newHandle();
      listings.set(handle.toString(), false);
      sftp.handle(reqId, handle);
    });
    sftp.on('READDIR', (reqId, handle) => {
      const key = handle.toString();
      if (!listings.has(key)) return sftp.status(reqId, STATUS_CODE.FAILURE, 'no such handle');
      if (listings.get(key)) return sftp.status(reqId, STATUS_CODE.EOF);
      listings.set(key, true);
      directory.list().then(
        (files) =>
          files.length === 0
            ? sftp.status(reqId, STATUS_CODE.EOF)
            : sftp.name(
                reqId,
                files.map((file) => ({ filename: file.name, longname: longname(file), attrs: attrsOf(file) })),
              ),
        (error) => fail(reqId, error),
      );
    });
    sftp.on('REMOVE', (reqId, requested) => {
      directory.remove(requested).then(
        () => sftp.status(reqId, STATUS_CODE.OK),
        () => sftp.status(reqId, STATUS_CODE.NO_SUCH_FILE, 'no such file here'),
      );
    });
    for (const request of ['READ', 'MKDIR', 'RMDIR', 'RENAME', 'READLINK', 'SYMLINK'] as const)
      sftp.on(request as 'READ', (reqId: number) => denied(reqId));
    // OpenSSH's sftp ends a session (`bye`, the end of a `-b` script) with an EOF and waits for the
    // server to close the channel, which ssh2 leaves to us: without this a brand's script hangs at its end.
    sftp.on('end', () => sftp.end());
    // A session that ends with files still open never makes batches of them.
    sftp.on('close', () => {
      for (const { stream } of uploads.values()) stream.destroy();
      uploads.clear();
    });
  }
}
