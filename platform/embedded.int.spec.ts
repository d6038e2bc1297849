import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, describe, expect, it } from 'vitest';
import { findNatsServer, freePort, startNatsServer, waitForPort } from './embedded.ts';
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
  it('refuses a client without the data dir\'s password and serves one with it', async () => {
    const dir = newDir();
    const nats = await startNatsServer(dir);
    try {
      await expect(connectNats(nats.address, { name: 'no-password' })).rejects.toThrow(/Authorization Violation/);
      await expect(connectNats(nats.url.replace(nats.password, 'wrong'), { name: 'wrong-password' })).rejects.toThrow(/Authorization Violation/);
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
      for (const entry of ['.', 'nats', 'nats-server.conf', 'nats-password', 'nats-server.pid']) expect(ownerOnly(join(dir, entry)), entry).toBe(true);
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
    const old = spawn(findNatsServer()!, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', join(dir, 'nats')], { stdio: 'ignore' });
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
