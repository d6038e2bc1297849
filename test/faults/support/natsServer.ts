import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNatsServer, freePort, waitForPort } from '../../../platform/embedded.ts';
import { onExit } from './cleanup.ts';

/** A private `nats-server -js` on a free loopback port with its own store, which the test may stop and start again. */
export type PrivateNats = {
  url: string;
  port: number;
  /** SIGTERM (the server's own clean shutdown), or SIGKILL. */
  stop: (signal?: 'SIGTERM' | 'SIGKILL') => Promise<void>;
  /** Start again on the same port with the same store: JetStream recovers its streams from disk. */
  start: () => Promise<void>;
  destroy: () => Promise<void>;
};

/** `maxPayload`: the largest message the server takes (bytes; its default is 1 MB), set in a config file. */
export async function startPrivateNats(options: { maxPayload?: number } = {}): Promise<PrivateNats> {
  const binary = findNatsServer();
  if (!binary) throw new Error('fault tests need nats-server: apt-get install nats-server');
  const dir = mkdtempSync(join(tmpdir(), 'cra-fault-nats-'));
  const storeDir = join(dir, 'store');
  mkdirSync(storeDir);
  const config: string[] = [];
  if (options.maxPayload !== undefined) {
    writeFileSync(join(dir, 'nats.conf'), `max_payload: ${options.maxPayload}\n`);
    config.push('-c', join(dir, 'nats.conf'));
  }
  const port = await freePort();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async () => {
    const c = spawn(binary, [...config, '-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], { stdio: 'ignore' });
    child = c;
    exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    await waitForPort(port);
  };
  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill(signal);
    await exited;
  };
  const forget = onExit(() => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    stop,
    start,
    destroy: async () => {
      forget();
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
