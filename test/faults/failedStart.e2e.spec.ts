import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../platform/embedded.ts';
import { runCra, spawnCra, type ServiceProcess } from './support/services.ts';

// `npm start` (everything embedded) that cannot start, and a second one on a data dir a running one owns.
const dirs: string[] = [];
const started: ServiceProcess[] = [];

afterAll(async () => {
  await Promise.all(started.map((p) => p.stop()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cra-failed-start-'));
  dirs.push(dir);
  return dir;
}

/** Every live process whose command line names `dir` (the embedded nats-server is started with its config there). */
function processesUsing(dir: string): string[] {
  return readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) return [];
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      return cmdline.includes(dir) ? [`${entry}: ${cmdline}`] : [];
    } catch {
      return [];
    }
  });
}

const embeddedEnv = (dir: string, port: number) => ({
  CRA_DATA_DIR: dir,
  PORT: String(port),
  LOG_LEVEL: 'warn',
  RATES_SCHEDULE: '0 0 1 1 *',
  RATES_URL: 'http://127.0.0.1:9/none',
});

describe('a start that fails', () => {
  it('whose web port is taken exits non-zero with one clear line and leaves no nats-server behind', async () => {
    const dir = dataDir();
    const port = await freePort();
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    try {
      const run = await runCra(['start'], embeddedEnv(dir, port), 90_000);
      expect(run.code).not.toBe(0);
      expect(run.output.join('\n')).toMatch(new RegExp(`cra: the web port 127\\.0\\.0\\.1:${port} is already in use`));
      expect(processesUsing(dir)).toEqual([]);
    } finally {
      taken.close();
    }
  }, 120_000);

  it('on a data dir a running start owns is refused with one clear line, and the running one keeps running', async () => {
    const dir = dataDir();
    const port = await freePort();
    const first = spawnCra(['start'], { ...embeddedEnv(dir, port), LOG_LEVEL: 'info' }, 'first start');
    started.push(first);
    await first.waitForLog((l) => l.msg === 'started', 90_000, '"started"');
    const second = await runCra(['start'], embeddedEnv(dir, await freePort()), 60_000);
    expect(second.code).not.toBe(0);
    expect(second.output.join('\n')).toMatch(
      new RegExp(`cra: cra start is already running on ${dir.replaceAll('/', '\\/')} \\(pid ${first.pid}\\)`),
    );
    expect(first.isAlive()).toBe(true);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  }, 180_000);
});
