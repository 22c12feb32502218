import pino, { Logger } from 'pino';

/** The process logger: JSON lines on stdout. Secrets are redacted wherever they might be attached. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'txedit' },
    // Belt and braces: request logs never carry query strings or bodies, but if someone attaches one
    // to a log object, these paths are censored.
    redact: {
      paths: [
        'password',
        '*.password',
        'Password',
        '*.Password',
        'authorization',
        '*.authorization',
        'headers.authorization',
        'headers.cookie',
        'adminToken',
      ],
      censor: '[redacted]',
    },
  });
}

export type { Logger };
