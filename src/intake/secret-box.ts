import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const KEY_BYTES = 32;
const IV_BYTES = 12;

/**
 * Seals secrets the network must use again later (a brand's pull password) with AES-256-GCM under a key
 * kept in a file of its own (created on first use, mode 0600), so a database dump alone does not give
 * them away. A sealed value is `v1:` + base64url(iv | tag | ciphertext).
 */
export class SecretBox {
  private key: Buffer | null = null;

  constructor(private readonly keyFile: string) {}

  seal(secret: string): string {
    const iv = crypto.randomBytes(IV_BYTES);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.keyBytes(), iv);
    const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return `v1:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
  }

  /** The secret, or null when the value was sealed under another key or altered. */
  open(sealed: string): string | null {
    if (!sealed.startsWith('v1:')) return null;
    const bytes = Buffer.from(sealed.slice(3), 'base64url');
    if (bytes.length < IV_BYTES + 16) return null;
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', this.keyBytes(), bytes.subarray(0, IV_BYTES));
      decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + 16));
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + 16)), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }

  private keyBytes(): Buffer {
    if (this.key) return this.key;
    fs.mkdirSync(path.dirname(this.keyFile), { recursive: true, mode: 0o700 });
    try {
      // 'wx': two processes starting at once cannot both write a key; the loser reads the winner's.
      fs.writeFileSync(this.keyFile, crypto.randomBytes(KEY_BYTES).toString('base64'), { flag: 'wx', mode: 0o600 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const key = Buffer.from(fs.readFileSync(this.keyFile, 'utf8').trim(), 'base64');
    if (key.length !== KEY_BYTES) throw new Error(`${this.keyFile} does not hold a ${KEY_BYTES}-byte key`);
    this.key = key;
    return key;
  }
}
