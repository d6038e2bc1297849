import { describe, expect, it } from 'vitest';
import { createLogger, loggableUrl } from './logger.ts';

describe('loggableUrl', () => {
  it.each([
    ['/verify?token=u0123.abcdef', '/verify?token=[redacted]'],
    ['/password/reset?token=u0123.abcdef', '/password/reset?token=[redacted]'],
    ['/unsubscribe?token=u0123.abcdef', '/unsubscribe?token=[redacted]'],
    ['/verify?a=1&token=secret&b=', '/verify?a=[redacted]&token=[redacted]&b=[redacted]'],
    ['/verify?u0123.abcdef', '/verify?[redacted]'],
    ['/verify?token=a=b', '/verify?token=[redacted]'],
  ])('drops the query values of %s', (url, logged) => {
    expect(loggableUrl(url)).toBe(logged);
  });

  it('keeps paths, query names and the allow-listed values', () => {
    expect(loggableUrl('/alerts/a1b2')).toBe('/alerts/a1b2');
    expect(loggableUrl('/login?next=%2Falerts')).toBe('/login?next=%2Falerts');
    expect(loggableUrl('/login?')).toBe('/login?');
    expect(loggableUrl('/x?a&&b=1')).toBe('/x?[redacted]&&b=[redacted]');
  });
});

describe('createLogger', () => {
  it('writes request lines without the query values', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
    logger.info(
      {
        req: {
          method: 'GET',
          url: '/verify?token=u0123.live-token',
          host: 'localhost:7007',
          ip: '127.0.0.1',
          socket: { remotePort: 5000 },
        },
      },
      'incoming request',
    );
    expect(JSON.parse(lines[0]!).req).toEqual({
      method: 'GET',
      url: '/verify?token=[redacted]',
      host: 'localhost:7007',
      remoteAddress: '127.0.0.1',
      remotePort: 5000,
    });
    expect(lines.join('')).not.toContain('live-token');
  });
});
