import { describe, expect, it } from 'vitest';
import { ConfigError } from '../platform/config.ts';
import { DEFAULT_NATS_IMAGE, DEFAULT_POSTGRES_IMAGE, planTestServers } from './serverPlan.ts';

const urls = { NATS_URL: 'nats://127.0.0.1:4222', DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' };

/** An engine probe that answers `answer` and counts how often it was asked. */
function engine(answer: boolean) {
  const probe = async () => {
    probe.asked += 1;
    return answer;
  };
  probe.asked = 0;
  return probe;
}

describe('planTestServers', () => {
  it('takes the URLs given, without asking for a container engine', async () => {
    const probe = engine(true);
    expect(await planTestServers(urls, probe)).toMatchObject({ nats: 'urls', postgres: 'urls' });
    expect(probe.asked).toBe(0);
  });

  it('starts containers for what has no URL when an engine answers, and local processes when none does', async () => {
    expect(await planTestServers({}, engine(true))).toMatchObject({ nats: 'containers', postgres: 'containers' });
    expect(await planTestServers({}, engine(false))).toMatchObject({ nats: 'processes', postgres: 'processes' });
    expect(await planTestServers({ NATS_URL: urls.NATS_URL }, engine(true))).toMatchObject({
      nats: 'urls',
      postgres: 'containers',
    });
    expect(await planTestServers({ DATABASE_URL: urls.DATABASE_URL, NATS_URL: '' }, engine(false))).toMatchObject({
      nats: 'processes',
      postgres: 'urls',
    });
  });

  it('asks the engine once for both servers', async () => {
    const probe = engine(true);
    await planTestServers({}, probe);
    expect(probe.asked).toBe(1);
  });

  it('does what CRA_TEST_SERVERS forces, whatever URLs are set', async () => {
    expect(await planTestServers({ ...urls, CRA_TEST_SERVERS: 'containers' }, engine(true))).toMatchObject({
      nats: 'containers',
      postgres: 'containers',
    });
    const probe = engine(true);
    expect(await planTestServers({ ...urls, CRA_TEST_SERVERS: 'processes' }, probe)).toMatchObject({
      nats: 'processes',
      postgres: 'processes',
    });
    expect(probe.asked).toBe(0);
    expect(await planTestServers({ ...urls, CRA_TEST_SERVERS: 'urls' }, engine(true))).toMatchObject({
      nats: 'urls',
      postgres: 'urls',
    });
  });

  it('refuses, in one line, a way it cannot take or does not know', async () => {
    await expect(planTestServers({ CRA_TEST_SERVERS: 'docker' }, engine(true))).rejects.toThrow(
      new ConfigError('Invalid environment variable CRA_TEST_SERVERS: must be urls, containers or processes'),
    );
    await expect(planTestServers({ CRA_TEST_SERVERS: 'urls', NATS_URL: urls.NATS_URL }, engine(true))).rejects.toThrow(
      new ConfigError('CRA_TEST_SERVERS=urls needs DATABASE_URL'),
    );
    await expect(planTestServers({ CRA_TEST_SERVERS: 'urls' }, engine(true))).rejects.toThrow(
      'CRA_TEST_SERVERS=urls needs NATS_URL and DATABASE_URL',
    );
    await expect(planTestServers({ CRA_TEST_SERVERS: 'containers' }, engine(false))).rejects.toThrow(
      'CRA_TEST_SERVERS=containers but no container engine answers (start Docker, or set DOCKER_HOST)',
    );
  });

  it('runs the pinned official images unless the environment names others', async () => {
    expect((await planTestServers({}, engine(true))).images).toEqual({
      nats: DEFAULT_NATS_IMAGE,
      postgres: DEFAULT_POSTGRES_IMAGE,
    });
    expect(DEFAULT_NATS_IMAGE).toMatch(/^nats:2\.\d+\.\d+$/);
    expect(DEFAULT_POSTGRES_IMAGE).toMatch(/^postgres:\d+\.\d+$/);
    const own = {
      CRA_TEST_NATS_IMAGE: 'cra-test/nats:2.9.10-debian',
      CRA_TEST_POSTGRES_IMAGE: 'cra-test/postgres:15.20-debian',
    };
    expect((await planTestServers(own, engine(true))).images).toEqual({
      nats: own.CRA_TEST_NATS_IMAGE,
      postgres: own.CRA_TEST_POSTGRES_IMAGE,
    });
    await expect(planTestServers({ CRA_TEST_NATS_IMAGE: 'nats 2.10' }, engine(true))).rejects.toThrow(
      'Invalid environment variable CRA_TEST_NATS_IMAGE: must be an image name such as nats:2.10.24 or cra-test/nats:2.9.10-debian',
    );
  });
});
