import { pino, type Logger } from 'pino';

export type { Logger };

/** The one logger: JSON lines on stdout; secrets are redacted wherever they appear in a log object. */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    ...(options.name ? { name: options.name } : {}),
    redact: {
      paths: ['password', '*.password', 'token', '*.token', 'passwordHash', '*.passwordHash', 'req.headers.cookie', 'req.headers.authorization', 'SMTP_URL', 'JWT_SECRET', 'RATES_API_KEY'],
      censor: '[redacted]',
    },
  });
}
