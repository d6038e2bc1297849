import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { findNatsServer, freePort, startNatsServer, startPglite, waitForPort } from './embedded.ts';
import { connectNats } from './nats.ts';

const dirs: string[] = [];
const newDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'cra-embedded-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const ownerOnly = (path: string) => (statSync(path).mode & 0o077) === 0;

describe('the embedded nats-server', () => {
  it("refuses a client without the data dir's password and serves one with it", async () => {
    const dir = newDir();
    const nats = await startNatsServer(dir);
    try {
      await expect(connectNats(nats.address, { name: 'no-password' })).rejects.toThrow(/Authorization Violation/);
      await expect(connectNats(nats.url.replace(nats.password, 'wrong'), { name: 'wrong-password' })).rejects.toThrow(
        /Authorization Violation/,
      );
      const nc = await connectNats(nats.url, { name: 'with-password' });
      const jsm = await jetstreamManager(nc);
      expect((await jsm.getAccountInfo()).streams).toBe(0);
      await nc.close();
      expect(nats.address).toBe(`nats://127.0.0.1:${nats.port}`);
      expect(nats.address).not.toContain(nats.password);
    } finally {
      await nats.stop();
    }
  });

  it('keeps its password and config owner-only and off the command line every local user can read', async () => {
    const dir = newDir();
    const nats = await startNatsServer(dir);
    try {
      const pid = Number(readFileSync(join(dir, 'nats-server.pid'), 'utf8'));
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toContain(nats.password);
      for (const entry of ['.', 'nats', 'nats-server.conf', 'nats-password', 'nats-server.pid'])
        expect(ownerOnly(join(dir, entry)), entry).toBe(true);
      expect(readFileSync(join(dir, 'nats-server.conf'), 'utf8')).toContain(`listen: "127.0.0.1:${nats.port}"`);
    } finally {
      await nats.stop();
    }
    const again = await startNatsServer(dir);
    await again.stop();
    expect(again.password).toBe(nats.password);
  });

  it('serves the streams a data dir of an older start stored without a password', async () => {
    const dir = newDir();
    const port = await freePort();
    const old = spawn(findNatsServer()!, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', join(dir, 'nats')], {
      stdio: 'ignore',
    });
    const oldExited = new Promise((resolve) => old.once('exit', resolve));
    await waitForPort(port);
    const before = await connectNats(`nats://127.0.0.1:${port}`, { name: 'old-start' });
    const oldJsm = await jetstreamManager(before);
    await oldJsm.streams.add({ name: 'OLD', subjects: ['old.>'] });
    await oldJsm.jetstream().publish('old.one', 'kept');
    await before.close();
    old.kill('SIGTERM');
    await oldExited;

    const nats = await startNatsServer(dir);
    try {
      const nc = await connectNats(nats.url, { name: 'new-start' });
      expect((await (await jetstreamManager(nc)).streams.info('OLD')).state.messages).toBe(1);
      await nc.close();
    } finally {
      await nats.stop();
    }
  });
});

describe('the embedded Postgres', () => {
  it('listens on a Unix socket in the owner-only data dir, not on a TCP port', async () => {
    const dir = newDir();
    const pglite = await startPglite(dir);
    try {
      expect(pglite.address).toBe(join(dir, '.s.PGSQL.5432'));
      expect(new URL(pglite.url).searchParams.get('host')).toBe(dir);
      expect(ownerOnly(dir) && ownerOnly(join(dir, 'pglite'))).toBe(true);
      const client = new pg.Client({ connectionString: pglite.url });
      await client.connect();
      expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      await client.end();
    } finally {
      await pglite.stop();
    }
    expect(existsSync(join(dir, '.s.PGSQL.5432'))).toBe(false);
  });

  it("puts the socket in a private temporary directory when the data dir's path is too long for one", async () => {
    const dir = join(newDir(), 'x'.repeat(100));
    const pglite = await startPglite(dir);
    const socketDir = new URL(pglite.url).searchParams.get('host')!;
    try {
      expect(socketDir.startsWith(tmpdir())).toBe(true);
      expect(ownerOnly(socketDir)).toBe(true);
      const client = new pg.Client({ connectionString: pglite.url });
      await client.connect();
      await client.end();
    } finally {
      await pglite.stop();
    }
    expect(existsSync(socketDir)).toBe(false);
  });
});
