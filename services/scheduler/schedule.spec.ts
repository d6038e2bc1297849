import { describe, expect, it } from 'vitest';
import { capturingLogger } from './testSupport/localProviderServer.ts';
import { startSchedule } from './schedule.ts';

const EVERY_SECOND = '* * * * * *';

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('startSchedule', () => {
  it('logs a failed run and keeps the schedule going', async () => {
    const { logger, lines } = capturingLogger();
    let calls = 0;
    const stop = startSchedule({
      cron: EVERY_SECOND,
      logger,
      run: async () => {
        calls++;
        if (calls === 1) throw new Error('provider down');
      },
    });
    try {
      await until(() => calls >= 2);
    } finally {
      await stop();
    }
    const failed = lines.find((l) => l.level === 50);
    expect(failed?.msg).toBe('scheduled rates run failed: provider down');
  });

  it('never overlaps runs: a tick during a busy run is skipped', async () => {
    const { logger, lines } = capturingLogger();
    let active = 0;
    let mostActive = 0;
    let calls = 0;
    const stop = startSchedule({
      cron: EVERY_SECOND,
      logger,
      run: async () => {
        calls++;
        mostActive = Math.max(mostActive, ++active);
        await new Promise((r) => setTimeout(r, 1_300));
        active--;
      },
    });
    try {
      await until(() => lines.some((l) => l.msg.includes('skipping this tick')));
    } finally {
      await stop();
    }
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(mostActive).toBe(1);
  });

  it('stop waits for the busy run and ends the schedule', async () => {
    const { logger } = capturingLogger();
    let calls = 0;
    let finished = 0;
    const stop = startSchedule({
      cron: EVERY_SECOND,
      logger,
      run: async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 200));
        finished++;
      },
    });
    await until(() => calls === 1);
    await stop();
    expect(finished).toBe(1);
    await new Promise((r) => setTimeout(r, 1_200));
    expect(calls).toBe(1);
  });
});
