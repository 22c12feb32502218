import type { Config } from '../config';
import type { Logger } from '../logger';
import { FtpIntake } from './ftp-intake';
import type { IntakeDoors } from './intake-doors';
import { SftpIntake } from './sftp-intake';
import { SmtpIntake } from './smtp-intake';

/** The ports the intake servers listen on (null: that server is off). */
export interface IntakePorts {
  ftp: number | null;
  sftp: number | null;
  smtp: number | null;
}

/** The FTP, SFTP and SMTP intake servers the config turns on (FTP_PORT, SFTP_PORT, SMTP_PORT). */
export function createIntakeServers(deps: { intake: IntakeDoors; config: Config; logger: Logger }) {
  const { intake, config, logger } = deps;
  const host = config.intake.host ?? config.host;
  const tls =
    config.security.tlsCertFile && config.security.tlsKeyFile
      ? { certFile: config.security.tlsCertFile, keyFile: config.security.tlsKeyFile }
      : null;
  const ftp =
    config.intake.ftpPort === null
      ? null
      : new FtpIntake(
          intake,
          {
            host,
            port: config.intake.ftpPort,
            intakeDir: config.intake.dir,
            maxFileBytes: config.batches.maxFileBytes,
            tls,
            allowPlain: config.intake.ftpAllowPlain,
            passivePorts: config.intake.ftpPassivePorts,
            publicHost: config.intake.ftpPublicHost,
          },
          logger,
        );
  const sftp =
    config.intake.sftpPort === null
      ? null
      : new SftpIntake(
          intake,
          {
            host,
            port: config.intake.sftpPort,
            intakeDir: config.intake.dir,
            maxFileBytes: config.batches.maxFileBytes,
            hostKeyFile: config.intake.sftpHostKeyFile,
          },
          logger,
        );
  const smtp =
    config.intake.smtpPort === null
      ? null
      : new SmtpIntake(
          intake,
          {
            host,
            port: config.intake.smtpPort,
            domain: config.intake.smtpDomain,
            maxMessageBytes: config.batches.maxFileBytes,
            tls,
          },
          logger,
        );
  const ports: IntakePorts = { ftp: null, sftp: null, smtp: null };
  return {
    ports,
    /** Starts the servers the config turns on; resolves once each listens (a busy port rejects). */
    async start(): Promise<IntakePorts> {
      if (ftp) ports.ftp = await ftp.start();
      if (sftp) ports.sftp = await sftp.start();
      if (smtp) ports.smtp = await smtp.start();
      return ports;
    },
    /** Stops them (connections in flight are cut; a cut upload never becomes a batch). */
    async close(): Promise<void> {
      await Promise.allSettled([ftp?.close(), sftp?.close(), smtp?.close()]);
    },
  };
}

export type IntakeServers = ReturnType<typeof createIntakeServers>;
