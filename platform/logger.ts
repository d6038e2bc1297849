import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Query parameters whose values are worth a log line and never secret; every other value is logged as redacted. */
const LOGGED_QUERY_PARAMETERS = new Set(['next']);

/**
 * A request target fit for a log line: the path, and of the query only the names and the allow-listed values.
 * An allow-list rather than a list of secrets: a token added to a new link later is redacted without anyone
 * remembering to add its name here (today: the tokens of /verify, /password/reset and /unsubscribe).
 */
export function loggableUrl(url: string): string {
  const mark = url.indexOf('?');
  if (mark < 0) return url;
  const query = url
    .slice(mark + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair === '' ? '' : '[redacted]';
      const name = pair.slice(0, eq);
      return LOGGED_QUERY_PARAMETERS.has(name) ? pair : `${name}=[redacted]`;
    });
  return `${url.slice(0, mark)}?${query.join('&')}`;
}

type LoggedRequest = { method?: string; url?: string; host?: string; ip?: string; socket?: { remotePort?: number } };

/** fastify's request log fields, with the URL through loggableUrl. */
export function requestSerializer(request: LoggedRequest) {
  return {
    method: request.method,
    url: loggableUrl(request.url ?? ''),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

/** The one logger: JSON lines on stdout (or `destination`); secrets are redacted wherever they appear in a log object. */
export function createLogger(options: { level?: string; name?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      ...(options.name ? { name: options.name } : {}),
      serializers: { req: requestSerializer },
      redact: {
        paths: [
          'password',
          '*.password',
          'token',
          '*.token',
          'passwordHash',
          '*.passwordHash',
          'req.headers.cookie',
          'req.headers.authorization',
          'SMTP_URL',
          'JWT_SECRET',
          'CRA_MASTER_KEY',
          'RATES_API_KEY',
          'METRICS_TOKEN',
        ],
        censor: '[redacted]',
      },
    },
    options.destination,
  );
}
