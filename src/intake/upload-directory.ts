import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';

/** A file in an upload directory, as FTP and SFTP list it. */
export interface UploadedFile {
  name: string;
  size: number;
  mtime: Date;
}

/** Thrown for a name outside the directory, or a refused operation. */
export class UploadRefused extends Error {}

/** Thrown when an upload passes BATCH_MAX_FILE_MB. */
export class UploadTooLarge extends UploadRefused {}

/** Names a user may use: one path segment, printable, not hidden (`.` starts our partial files). */
const NAME = /^[^/\\\0-\x1f.][^/\\\0-\x1f]{0,254}$/;

/**
 * One upload user's own directory (INTAKE_DIR/uploads/<campaign>/<user>), flat: every name given by a
 * client is one path segment in it, read as `/name`, `name` or `./name`; `..`, other directories,
 * absolute paths elsewhere, backslashes and hidden names are refused before the disk is touched, and
 * only regular files are listed or removed (a symlink planted there is neither followed nor shown). An
 * upload is written to a hidden partial file and only given its name once complete.
 */
export class UploadDirectory {
  constructor(readonly root: string) {}

  /**
   * The user's directory (owner and user sanitised by their own rules: a campaign's digits, or "m" and a
   * merchant's; [a-z0-9._-]).
   */
  static of(intakeDir: string, owner: number | string, username: string): UploadDirectory {
    return new UploadDirectory(path.join(path.resolve(intakeDir), 'uploads', String(owner), username));
  }

  /** The one segment a client path names, or an UploadRefused. */
  nameOf(clientPath: string): string {
    const trimmed = clientPath.replace(/^(\.\/|\/)+/, '');
    if (!NAME.test(trimmed)) throw new UploadRefused(`${JSON.stringify(clientPath)}: no such file here`);
    return trimmed;
  }

  /** True when the client path names the directory itself. */
  isRoot(clientPath: string): boolean {
    return ['', '/', '.', './', '/.'].includes(clientPath.trim());
  }

  /** The user's files, regular files only (partial uploads are hidden). */
  async list(): Promise<UploadedFile[]> {
    await this.ensure();
    const entries = await fs.promises.readdir(this.root, { withFileTypes: true });
    const files: UploadedFile[] = [];
    for (const entry of entries) {
      if (!entry.isFile() || !NAME.test(entry.name)) continue;
      const stat = await fs.promises.lstat(path.join(this.root, entry.name));
      files.push({ name: entry.name, size: stat.size, mtime: stat.mtime });
    }
    return files.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** One of the user's files, or null. */
  async stat(clientPath: string): Promise<UploadedFile | null> {
    const name = this.nameOf(clientPath);
    try {
      const stat = await fs.promises.lstat(path.join(this.root, name));
      return stat.isFile() ? { name, size: stat.size, mtime: stat.mtime } : null;
    } catch {
      return null;
    }
  }

  /** Removes one of the user's files (a regular file only). */
  async remove(clientPath: string): Promise<void> {
    const file = await this.stat(clientPath);
    if (!file) throw new UploadRefused(`${JSON.stringify(clientPath)}: no such file here`);
    await fs.promises.unlink(path.join(this.root, file.name));
  }

  /**
   * A stream writing an upload to a hidden partial file. `complete` runs when the client has sent it all
   * (the stream's final step, so the client hears the outcome): it gets the name and bytes, and says
   * whether the file stays in the directory. A stream destroyed before then (a cut connection) removes
   * the partial file and nothing else happens.
   */
  async upload(
    clientPath: string,
    maxBytes: number,
    complete: (name: string, bytes: Buffer) => Promise<{ keep: boolean }>,
  ): Promise<Writable> {
    const name = this.nameOf(clientPath);
    await this.ensure();
    const partial = path.join(this.root, `.part-${crypto.randomBytes(8).toString('hex')}`);
    const handle = await fs.promises.open(partial, 'wx', 0o600);
    let size = 0;
    let closed = false;
    let aborted = false;
    let finished = false;
    const closeAndRemove = async () => {
      if (!closed) {
        closed = true;
        await handle.close().catch(() => undefined);
      }
      await fs.promises.rm(partial, { force: true });
    };
    return new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        size += chunk.length;
        if (size > maxBytes) return callback(new UploadTooLarge('the file is larger than BATCH_MAX_FILE_MB'));
        handle.write(chunk).then(() => callback(), callback);
      },
      final: (callback) => {
        (async () => {
          closed = true;
          await handle.close();
          // ftp-srv ends the stream and destroys it in the same turn when the data connection fails:
          // a stream destroyed while finishing is an upload cut short, never a file.
          if (aborted) throw new UploadRefused('the upload was cut short');
          const bytes = await fs.promises.readFile(partial);
          if (aborted) throw new UploadRefused('the upload was cut short');
          const { keep } = await complete(name, bytes);
          if (keep) await fs.promises.rename(partial, path.join(this.root, name));
          else await fs.promises.rm(partial, { force: true });
        })().then(
          () => {
            finished = true;
            callback();
          },
          (error) => closeAndRemove().finally(() => callback(error)),
        );
      },
      destroy: (error, callback) => {
        if (!finished) aborted = true;
        closeAndRemove().finally(() => callback(error));
      },
    });
  }

  private async ensure(): Promise<void> {
    await fs.promises.mkdir(this.root, { recursive: true, mode: 0o700 });
  }
}
