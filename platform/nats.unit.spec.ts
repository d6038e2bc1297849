import { describe, expect, it } from 'vitest';
import { parseNatsUrl } from './nats.ts';

describe('reading NATS_URL', () => {
  it('takes user and password out of the URL, so the servers nats.js keeps and prints carry none', () => {
    expect(parseNatsUrl('nats://cra:s3cret@127.0.0.1:4222')).toEqual({
      servers: ['nats://127.0.0.1:4222'],
      user: 'cra',
      pass: 's3cret',
    });
  });

  it('decodes percent-encoded credentials and reads a lone userinfo as a token', () => {
    expect(parseNatsUrl('nats://a%40b:p%3Aw%40rd@host:4222')).toEqual({
      servers: ['nats://host:4222'],
      user: 'a@b',
      pass: 'p:w@rd',
    });
    expect(parseNatsUrl('tls://t0ken@host:4222')).toEqual({ servers: ['tls://host:4222'], token: 't0ken' });
  });

  it('keeps every server of a comma-separated list, with the credentials of the first that has them', () => {
    expect(parseNatsUrl('nats://u:p@n1:4222, nats://n2:4222,n3:4222')).toEqual({
      servers: ['nats://n1:4222', 'nats://n2:4222', 'n3:4222'],
      user: 'u',
      pass: 'p',
    });
  });

  it('leaves a URL without credentials as it is', () => {
    expect(parseNatsUrl('nats://127.0.0.1:4222')).toEqual({ servers: ['nats://127.0.0.1:4222'] });
  });
});
