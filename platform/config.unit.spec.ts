import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

describe('config', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({})).toMatchObject({
      PORT: 7007,
      HOST: '127.0.0.1',
      PUBLIC_URL: 'http://localhost:7007',
      MAIL_FROM: 'CRA <alerts@localhost>',
      RATES_PROVIDER: 'frankfurter',
      RATES_SCHEDULE: '0 17 * * *',
      CRA_DATA_DIR: './.cra',
      TRUST_PROXY: false,
    });
  });

  it('keeps webhooks to public https endpoints unless WEBHOOK_ALLOW_HTTP / WEBHOOK_ALLOW_PRIVATE say true', () => {
    expect(loadConfig({})).toMatchObject({ WEBHOOK_ALLOW_HTTP: false, WEBHOOK_ALLOW_PRIVATE: false });
    expect(loadConfig({ WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE: 'true' })).toMatchObject({
      WEBHOOK_ALLOW_HTTP: true,
      WEBHOOK_ALLOW_PRIVATE: true,
    });
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE: 'yes' })).toThrow(/WEBHOOK_ALLOW_PRIVATE.*true or false/);
  });

  it('believes X-Forwarded-For only as far as TRUST_PROXY says', () => {
    expect(loadConfig({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true);
    expect(loadConfig({ TRUST_PROXY: 'false' }).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1' }).TRUST_PROXY).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
      '::1',
    ]);
    expect(loadConfig({ TRUST_PROXY: 'loopback' }).TRUST_PROXY).toEqual(['loopback']);
  });

  it('listens where HOST says and takes a metrics token of at least 32 characters', () => {
    expect(loadConfig({ HOST: '0.0.0.0' }).HOST).toBe('0.0.0.0');
    expect(loadConfig({ HOST: '::' }).HOST).toBe('::');
    expect(loadConfig({ HOST: 'localhost' }).HOST).toBe('localhost');
    expect(loadConfig({}).METRICS_TOKEN).toBeUndefined();
    expect(loadConfig({ METRICS_TOKEN: 'm'.repeat(32) }).METRICS_TOKEN).toBe('m'.repeat(32));
  });

  it('reads rate limits as a count per window, with defaults', () => {
    expect(loadConfig({}).RATE_LIMIT_REGISTER_PER_CLIENT).toEqual({ max: 100, timeWindowMs: 3_600_000 });
    expect(loadConfig({}).RATE_LIMIT_LOGIN_PER_USERNAME).toEqual({ max: 5, timeWindowMs: 60_000 });
    expect(loadConfig({}).RATE_LIMIT_EMAIL_CHANGES_PER_ACCOUNT).toEqual({ max: 10, timeWindowMs: 3_600_000 });
    expect(loadConfig({ RATE_LIMIT_LOGIN_PER_CLIENT: '50/1m' }).RATE_LIMIT_LOGIN_PER_CLIENT).toEqual({
      max: 50,
      timeWindowMs: 60_000,
    });
    expect(loadConfig({ RATE_LIMIT_REGISTER_PER_CLIENT: '300 / 2h' }).RATE_LIMIT_REGISTER_PER_CLIENT).toEqual({
      max: 300,
      timeWindowMs: 7_200_000,
    });
    expect(loadConfig({ RATE_LIMIT_TOKEN_LINKS_PER_CLIENT: '10/30s' }).RATE_LIMIT_TOKEN_LINKS_PER_CLIENT).toEqual({
      max: 10,
      timeWindowMs: 30_000,
    });
    expect(loadConfig({ RATE_LIMIT_LINK_EMAILS_PER_ACCOUNT: '3/h' }).RATE_LIMIT_LINK_EMAILS_PER_ACCOUNT).toEqual({
      max: 3,
      timeWindowMs: 3_600_000,
    });
  });

  it.each([
    ['RATE_LIMIT_LOGIN_PER_CLIENT', '20'],
    ['RATE_LIMIT_LOGIN_PER_CLIENT', '0/1m'],
    ['RATE_LIMIT_REGISTER_PER_CLIENT', '10 per hour'],
    ['RATE_LIMIT_EMAIL_LINKS_PER_CLIENT', '5/1d'],
    ['PORT', 'seventy'],
    ['HOST', 'every interface'],
    ['HOST', '0.0.0.0:7007'],
    ['METRICS_TOKEN', 'short'],
    // A Nomad template renders a key missing from the variable as null: refused, not a weak token.
    ['METRICS_TOKEN', 'null'],
    ['METRICS_TOKEN', 'a token with spaces that is long enough'],
    ['PORT', '70000'],
    ['PUBLIC_URL', 'localhost:7007'],
    ['DATABASE_URL', 'mysql://x'],
    ['SMTP_URL', 'http://mail'],
    ['JWT_SECRET', 'short'],
    ['CRA_MASTER_KEY', 'not 32 bytes'],
    ['CRA_MASTER_KEY', '00'.repeat(32)],
    ['RATES_PROVIDER', 'ecb'],
    ['RATES_SCHEDULE', 'every day'],
    ['NATS_URL', 'not a url'],
    ['TRUST_PROXY', 'yes please'],
    ['TRUST_PROXY', '10.0.0.0/8; evil'],
  ])('names %s when it is %j', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^Invalid environment variable ${name}: `));
  });

  it('requires CRA_MASTER_KEY in production, and takes 32 random bytes in hex', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(
      /^Invalid environment variable CRA_MASTER_KEY: required in production/,
    );
    const key = 'ab'.repeat(16) + 'cd'.repeat(16);
    expect(loadConfig({ NODE_ENV: 'production', CRA_MASTER_KEY: key }).CRA_MASTER_KEY).toBe(key);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '' }).PORT).toBe(7007);
  });

  it('stops the process with one line naming the bad variable', () => {
    const run = spawnSync(process.execPath, ['bin/cra.mjs', 'fetch-rates'], {
      env: { ...process.env, RATES_PROVIDER: 'nope' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^cra: Invalid environment variable RATES_PROVIDER: /),
    ]);
  });
});
