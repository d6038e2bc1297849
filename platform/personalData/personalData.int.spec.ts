import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { namespaceFor } from '../../events/index.ts';
import { connectNats } from '../nats.ts';
import { startPrivateNats, type PrivateNats } from '../../test/faults/support/natsServer.ts';
import { ERASED, PersonalData, personKeysBucket } from './index.ts';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';

let nats: PrivateNats & { dir: string };
let nc: NatsConnection;
const ns = namespaceFor('pd');
const master = randomBytes(32);

/** Every file under dir whose bytes contain needle. */
function filesHolding(dir: string, needle: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (readFileSync(path).includes(needle)) found.push(path);
    }
  };
  walk(dir);
  return found;
}

beforeAll(async () => {
  nats = await startPrivateNats();
  nc = await connectNats(nats.url, { name: 'personal-data-spec' });
}, 30_000);
afterAll(async () => {
  await nc?.close();
  await nats?.destroy();
});

describe('personal data under per-person keys', () => {
  it('seals a field under the person key and reveals it, in this process and another', async () => {
    const one = await PersonalData.open(nc, ns, master);
    const other = await PersonalData.open(nc, ns, master);
    const sealed = await one.seal('u1', 'email', 'ann@example.com');
    expect(sealed).not.toContain('ann');
    expect(await one.reveal('u1', 'email', sealed)).toBe('ann@example.com');
    expect(await other.reveal('u1', 'email', sealed)).toBe('ann@example.com');
    // Plain text written before sealing existed reads as it is.
    expect(await one.reveal('u1', 'email', 'old@example.com')).toBe('old@example.com');
    one.close();
    other.close();
  });

  it('does not open with another master key', async () => {
    const one = await PersonalData.open(nc, ns, master);
    const sealed = await one.seal('u2', 'username', 'bob');
    const wrong = await PersonalData.open(nc, ns, randomBytes(32));
    await expect(wrong.reveal('u2', 'username', sealed)).rejects.toThrow(/CRA_MASTER_KEY/);
    one.close();
    wrong.close();
  });

  it('forgets a person: their fields read as erased everywhere, a new key is new, and the old key bytes are gone from disk', async () => {
    const one = await PersonalData.open(nc, ns, master);
    const other = await PersonalData.open(nc, ns, master);
    const sealed = await one.seal('u3', 'email', 'cid@example.com');
    expect(await other.reveal('u3', 'email', sealed)).toBe('cid@example.com'); // now in the other's memory
    const js = await jetstreamManager(nc);
    const stored = await js.streams.getMessage(`KV_${personKeysBucket(ns)}`, {
      last_by_subj: `$KV.${personKeysBucket(ns)}.u3`,
    });
    const wrapped = new TextDecoder().decode(stored!.data).split(':').at(-1)!;
    expect(filesHolding(nats.dir, wrapped.slice(0, 24)).length).toBeGreaterThan(0);

    await one.forget('u3');
    expect(await one.reveal('u3', 'email', sealed)).toBe(ERASED);
    await expect.poll(() => other.reveal('u3', 'email', sealed), { timeout: 5_000 }).toBe(ERASED);
    await one.forget('u3'); // again: nothing to do, no error

    const again = await one.seal('u3', 'email', 'new-person@example.com');
    expect(await other.reveal('u3', 'email', again)).toBe('new-person@example.com');
    expect(await other.reveal('u3', 'email', sealed)).toBe(ERASED);
    expect(filesHolding(nats.dir, wrapped.slice(0, 24))).toEqual([]);
    one.close();
    other.close();
  });

  it('looks an address up by a keyed hash that does not hold it', async () => {
    const one = await PersonalData.open(nc, ns, master);
    const h = one.lookup('email', ' Ann@Example.com ');
    expect(h).toBe(one.lookup('email', 'ann@example.com'));
    expect(h).not.toContain('ann');
    const other = await PersonalData.open(nc, ns, randomBytes(32));
    expect(other.lookup('email', 'ann@example.com')).not.toBe(h);
    one.close();
    other.close();
  });
});
