import { describe, expect, it } from 'vitest';
import { BatchWriter } from './batchWriter.ts';

/** An apply whose batches finish only when the test says so. */
function controlledApply() {
  const started: string[] = [];
  const finish = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  const apply = (batch: string) =>
    new Promise<void>((resolve, reject) => {
      started.push(batch);
      finish.set(batch, { resolve, reject });
    });
  return {
    apply,
    started,
    finish: (batch: string) => finish.get(batch)!,
    tick: () => new Promise((r) => setImmediate(r)),
  };
}

describe('BatchWriter', () => {
  it('applies one batch at a time, in order, and lets the writer run one batch ahead', async () => {
    const c = controlledApply();
    const writer = new BatchWriter(c.apply, () => {});
    await writer.write('a'); // nothing before it: resolves at once
    let secondAccepted = false;
    const second = writer.write('b').then(() => (secondAccepted = true));
    await c.tick();
    expect(c.started).toEqual(['a']);
    expect(secondAccepted).toBe(false);
    c.finish('a').resolve();
    await second;
    await c.tick();
    expect(c.started).toEqual(['a', 'b']);
    c.finish('b').resolve();
    await writer.drain();
  });

  it('lets the writer run further ahead when asked, still applying one batch at a time in order', async () => {
    const c = controlledApply();
    const writer = new BatchWriter(c.apply, () => {}, 2);
    await writer.write('a');
    await writer.write('b'); // two ahead: accepted while 'a' is still being applied
    let thirdAccepted = false;
    const third = writer.write('c').then(() => (thirdAccepted = true));
    await c.tick();
    expect(c.started).toEqual(['a']);
    expect(thirdAccepted).toBe(false);
    c.finish('a').resolve();
    await third;
    await c.tick();
    expect(c.started).toEqual(['a', 'b']);
    c.finish('b').resolve();
    await c.tick();
    expect(c.started).toEqual(['a', 'b', 'c']);
    c.finish('c').resolve();
    await writer.drain();
  });

  it('after a failure applies nothing more, tells onFailure at once and rejects drain and the next write', async () => {
    const c = controlledApply();
    const failures: unknown[] = [];
    const writer = new BatchWriter(c.apply, (e) => failures.push(e));
    await writer.write('a');
    const next = writer.write('b');
    c.finish('a').reject(new Error('postgres went away'));
    await expect(next).rejects.toThrow('postgres went away');
    await c.tick();
    expect(c.started).toEqual(['a']);
    expect(failures.map((e) => (e as Error).message)).toEqual(['postgres went away', 'postgres went away']);
    await expect(writer.drain()).rejects.toThrow('postgres went away');
  });

  it('is idle once every batch written is applied (or failed), and calls those waiting for it then', async () => {
    const c = controlledApply();
    const writer = new BatchWriter(c.apply, () => {}, 2);
    const heard: string[] = [];
    writer.whenIdle(() => heard.push('at once'));
    expect(heard).toEqual(['at once']);
    await writer.write('a');
    await writer.write('b');
    expect(writer.idle).toBe(false);
    writer.whenIdle(() => heard.push('idle'));
    await c.tick();
    c.finish('a').resolve();
    await c.tick();
    expect(heard).toEqual(['at once']);
    c.finish('b').reject(new Error('postgres went away'));
    await c.tick();
    expect(writer.idle).toBe(true);
    expect(heard).toEqual(['at once', 'idle']);
    await expect(writer.drain()).rejects.toThrow('postgres went away');
  });
});
