import type { IntakeDoors } from './intake-doors';
import type { IntakeUser } from '../store/intake-store';
import { UploadDirectory, UploadRefused } from './upload-directory';

const TAKEN_NAME = /\.(csv|xml)$/i;

/**
 * What FTP and SFTP do with a complete upload: the file becomes a batch of the user's campaign through
 * the admin upload's path; a .csv/.xml file then leaves the directory, any other name stays (its batch
 * says records 0, as impact.com's File Submissions do). A file that cannot be read stores nothing and the
 * client is told why.
 */
export function completeUpload(
  intake: IntakeDoors,
  user: IntakeUser,
  channel: 'ftp' | 'sftp',
  clientIp: string,
  /** False once the client's session is gone: its last file may be cut short, and is not taken. */
  sessionAlive: () => boolean = () => true,
) {
  return async (name: string, bytes: Buffer): Promise<{ keep: boolean }> => {
    if (!(await intake.stillAllowed(user))) throw new UploadRefused('the upload user was revoked');
    if (!sessionAlive()) throw new UploadRefused('the session ended during the upload');
    const result = await intake.take({
      campaignId: user.campaignId,
      merchantId: user.merchantId,
      channel,
      submittedBy: user.username,
      filename: name,
      bytes,
      clientIp,
    });
    if (!result.ok) throw new UploadRefused(`the file cannot be read: ${result.reason}`);
    return { keep: !TAKEN_NAME.test(name) };
  };
}

/** The user's upload directory under INTAKE_DIR. */
export function directoryOf(intakeDir: string, user: IntakeUser): UploadDirectory {
  // A merchant's user has a directory of its own, beside the campaigns' ("m" and the merchant's id).
  return UploadDirectory.of(intakeDir, user.campaignId ?? `m${user.merchantId}`, user.username);
}
