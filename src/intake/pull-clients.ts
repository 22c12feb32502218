import { Writable } from 'node:stream';
import { Client as FtpClient } from 'basic-ftp';
import { Client as SshClient, type SFTPWrapper } from 'ssh2';

/** A file in the brand's directory. */
export interface RemoteFile {
  name: string;
  size: number;
  /** Modification time in ms (0 when the server does not say). */
  mtime: number;
}

/** An open connection to a brand's server: list the directory, read a file, close. */
export interface PullConnection {
  list(): Promise<RemoteFile[]>;
  read(name: string, maxBytes: number): Promise<Buffer>;
  close(): void;
  /** SFTP: the SHA-256 (hex) of the host key the server showed. */
  hostKeySha256?: string;
}

/** Where and how to connect: `address` is the IP already checked by the guard, `host` the name for TLS. */
export interface PullTarget {
  protocol: 'ftp' | 'ftps' | 'sftp';
  host: string;
  address: string;
  port: number;
  directory: string;
  username: string;
  password: string;
  timeoutMs: number;
  /** Verify the brand's FTPS certificate (off only for tests against a self-signed one). */
  verifyTls: boolean;
  /** SFTP: the host key pinned at an earlier pull (SHA-256, hex); null: none yet, the first one met is taken. */
  hostKeySha256?: string | null;
}

/** A refusal to talk to an SFTP server whose host key is not the one pinned. */
export class HostKeyChangedError extends Error {}

/** Thrown when a file is larger than the upload limit. */
export class TooLargeError extends Error {}

/** Connects to the brand's server with basic-ftp (FTP, explicit FTPS) or ssh2 (SFTP). */
export async function openPull(target: PullTarget): Promise<PullConnection> {
  return target.protocol === 'sftp' ? openSftp(target) : openFtp(target);
}

const join = (directory: string, name: string) => `${directory.replace(/\/+$/, '')}/${name}`;

async function openFtp(target: PullTarget): Promise<PullConnection> {
  const client = new FtpClient(target.timeoutMs);
  try {
    await client.access({
      host: target.address,
      port: target.port,
      user: target.username,
      password: target.password,
      secure: target.protocol === 'ftps',
      secureOptions: { servername: target.host, rejectUnauthorized: target.verifyTls },
    });
  } catch (error) {
    client.close();
    throw error;
  }
  return {
    list: async () => {
      const files: RemoteFile[] = [];
      for (const file of (await client.list(target.directory)).filter((f) => f.isFile)) {
        // A plain LIST (no MLSD) gives no exact time: MDTM does. Without one a file overwritten with new
        // content of the same size would look taken already (same name, size and time 0).
        const modifiedAt =
          file.modifiedAt ?? (await client.lastMod(join(target.directory, file.name)).catch(() => undefined));
        files.push({ name: file.name, size: file.size, mtime: modifiedAt?.getTime() ?? 0 });
      }
      return files;
    },
    read: async (name, maxBytes) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const sink = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          size += chunk.length;
          if (size > maxBytes) return callback(new TooLargeError(`${name} is larger than BATCH_MAX_FILE_MB`));
          chunks.push(chunk);
          callback();
        },
      });
      await client.downloadTo(sink, join(target.directory, name));
      return Buffer.concat(chunks);
    },
    close: () => client.close(),
  };
}

function openSftp(target: PullTarget): Promise<PullConnection> {
  return new Promise((resolve, reject) => {
    const ssh = new SshClient();
    const pinned = target.hostKeySha256 ?? null;
    let seen: string | null = null;
    ssh.once('error', (error) =>
      reject(
        seen !== null && pinned !== null && seen !== pinned
          ? new HostKeyChangedError(
              `the SFTP server's host key changed (SHA-256 ${seen}, pinned ${pinned}): refused, as a man in the ` +
                'middle would be; if the brand changed its key, save the pull settings again',
            )
          : error,
      ),
    );
    ssh.once('ready', () => {
      ssh.sftp((error, sftp) => {
        if (error) {
          ssh.end();
          return reject(error);
        }
        resolve({ ...sftpConnection(ssh, sftp, target), hostKeySha256: seen ?? undefined });
      });
    });
    ssh.connect({
      host: target.address,
      port: target.port,
      username: target.username,
      password: target.password,
      readyTimeout: target.timeoutMs,
      // Trust on first use: the first key met is pinned by the caller; another one later is refused before
      // the password is sent (ssh2 checks the host key before authenticating).
      hostHash: 'sha256',
      hostVerifier: (hash: string) => {
        seen = hash;
        return pinned === null || hash === pinned;
      },
    });
  });
}

function sftpConnection(ssh: SshClient, sftp: SFTPWrapper, target: PullTarget): PullConnection {
  return {
    list: () =>
      new Promise((resolve, reject) =>
        sftp.readdir(target.directory, (error, entries) => {
          if (error) return reject(error);
          resolve(
            entries
              .filter((e) => (e.attrs.mode & 0o170000) === 0o100000)
              .map((e) => ({ name: e.filename, size: e.attrs.size, mtime: e.attrs.mtime * 1000 })),
          );
        }),
      ),
    read: (name, maxBytes) =>
      new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const stream = sftp.createReadStream(join(target.directory, name));
        stream.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            stream.destroy();
            reject(new TooLargeError(`${name} is larger than BATCH_MAX_FILE_MB`));
          } else chunks.push(chunk);
        });
        stream.once('error', reject);
        stream.once('end', () => resolve(Buffer.concat(chunks)));
      }),
    close: () => ssh.end(),
  };
}
