import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitUntil } from '../faults/support/lab.ts';
import { registerUsers, type TestUser } from '../faults/support/traffic.ts';
import { consumerNames, openClusterBed, streamLeader, type ClusterBed } from './support.ts';

// Fault: one node of the three-node cluster killed (kill -9) while commands keep coming.
let bed: ClusterBed;
let users: TestUser[];

beforeAll(async () => {
  bed = await openClusterBed();
  users = await registerUsers(bed.lab, bed.ledger, 3);
}, 120_000);

afterAll(async () => bed?.close(), 60_000);

describe('one node of three killed', () => {
  it('every command succeeds once the first 10 s are over, and loading an aggregate leaves no consumer behind', async () => {
    const leader = await streamLeader(bed.lab);
    const follower = bed.lab.nats.nodes.find((n) => n !== leader)!;
    await follower.stop('SIGKILL');
    await sleep(10_000);
    // The durable consumers and one ordered consumer per following reader (each projector): loads must add none.
    const consumersBefore = await consumerNames(bed.lab);
    const replies = [];
    for (let i = 0; i < 24; i++) {
      const user = users[i % users.length]!;
      replies.push(await bed.ledger.send('LogIn', { username: user.username, password: user.password }));
    }
    const failed = replies.filter((r) => !r.ok).map((r) => (r.ok ? '' : `${r.error}: ${r.message}`));
    expect(failed).toEqual([]);
    expect((await consumerNames(bed.lab)).length).toBeLessThanOrEqual(consumersBefore.length);
    await follower.start();
  }, 120_000);
});
