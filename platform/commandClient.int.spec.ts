import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjects, type CommandName } from '../events/index.ts';
import { openTestWorld, type TestWorld } from '../test/harness.ts';
import { commandClient } from './commandClient.ts';
import { connectNats } from './nats.ts';

let world: TestWorld;
beforeAll(async () => {
  world = await openTestWorld();
});
afterAll(async () => world?.close());

const alert = (alertId: string) => ({ userId: 'u1', alertId, base: 'EUR', quote: 'USD', threshold: '1.1' });

/** A stand-in command service on one command's subject; `answer` returns the reply body, or undefined to stay silent. */
function fakeService(
  name: CommandName,
  answer: (request: { commandId: string; payload: { alertId: string } }) => Promise<string | undefined>,
) {
  return world.nc.subscribe(subjects.command(world.ns, name), {
    callback: (_error, msg) => {
      void answer(msg.json()).then((body) => body !== undefined && msg.respond(body));
    },
  });
}

describe('commandClient', () => {
  it('gives each of many concurrent commands its own reply, however the replies are ordered', async () => {
    const service = fakeService('SetAlert', async ({ commandId, payload }) => {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 50));
      return JSON.stringify({ ok: true, seq: Number(payload.alertId.slice(1)), result: { commandId } });
    });
    const send = commandClient(world.nc, world.ns);
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) => send('SetAlert', alert(`a${i}`), { commandId: `command-${i}` })),
    );
    service.unsubscribe();
    expect(replies).toEqual(
      Array.from({ length: 200 }, (_, i) => ({ ok: true, seq: i, result: { commandId: `command-${i}` } })),
    );
  });

  it('answers UNAVAILABLE at once when no command service is running', async () => {
    const started = Date.now();
    const reply = await commandClient(world.nc, world.ns)(
      'DeleteAlert',
      { userId: 'u1', alertId: 'a1' },
      { timeoutMs: 5_000 },
    );
    expect(reply).toMatchObject({
      ok: false,
      error: 'UNAVAILABLE',
      message: expect.stringMatching(/no command service/),
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('answers UNCONFIRMED when the command service stays silent past the timeout, UNAVAILABLE when it answers in an unknown format', async () => {
    const silent = fakeService('PauseAlertEmails', async () => undefined);
    const garbled = fakeService('ResumeAlertEmails', async () => '{"ok":"maybe"}');
    const send = commandClient(world.nc, world.ns);
    const started = Date.now();
    expect(await send('PauseAlertEmails', { userId: 'u1' }, { timeoutMs: 300 })).toMatchObject({
      ok: false,
      error: 'UNCONFIRMED',
      message: expect.stringMatching(/300 ms.*may have been stored/),
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(await send('ResumeAlertEmails', { userId: 'u1' })).toMatchObject({
      ok: false,
      error: 'UNAVAILABLE',
      message: expect.stringMatching(/unknown format/),
    });
    silent.unsubscribe();
    garbled.unsubscribe();
  });

  it('never throws once its connection is closed: UNCONFIRMED for a command already on its way, UNAVAILABLE for one sent after', async () => {
    const nc = await connectNats(world.natsUrl, { name: 'command-client-closing' });
    let arrived!: () => void;
    const atService = new Promise<void>((resolve) => (arrived = resolve));
    const service = fakeService('SetAlert', async () => {
      arrived();
      return new Promise<undefined>((resolve) => setTimeout(resolve, 2_000));
    });
    const send = commandClient(nc, world.ns);
    const inFlight = send('SetAlert', alert('closing'), { timeoutMs: 10_000 });
    // Closed once the command is surely on its way (a fixed pause raced the request on a busy machine).
    await atService;
    const closedAt = Date.now();
    await nc.close();
    expect(await inFlight).toMatchObject({ ok: false, error: 'UNCONFIRMED' });
    // Answered at the close, not at the command's 10 s timeout.
    expect(Date.now() - closedAt).toBeLessThan(2_000);
    expect(await send('SetAlert', alert('after-close'))).toMatchObject({ ok: false, error: 'UNAVAILABLE' });
    service.unsubscribe();
  });
});
