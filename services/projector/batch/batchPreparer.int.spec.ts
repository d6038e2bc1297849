import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeEvents, event } from '../../../events/index.ts';
import type { RawMessage } from '../../../platform/eventStore/index.ts';
import { BatchPreparer, WORKER_MIN_BATCH } from './batchPreparer.ts';
import { packBatch, preparePacked, type PackedBatch } from './preparedBatch.ts';

const meta = { occurredAt: '2026-11-02T10:00:00.000Z', correlationId: 'c', causationId: 'c' };
function messages(count: number, from = 1): RawMessage[] {
  return Array.from({ length: count }, (_, i) => {
    const seq = from + i;
    const userId = `u${String(seq).padStart(32, '0')}`;
    const events = [
      event('UserLoggedIn', {
        userId,
        sessionId: '6f1c1f0e-8d7a-4a43-9a52-1b2f0f6f3e11',
        expiresAt: '2026-11-09T00:00:00.000Z',
      }),
    ];
    return { seq, subject: `s.${seq}`, ...encodeEvents(events, meta), pending: 0 };
  });
}

let preparer: BatchPreparer | undefined;
afterEach(async () => preparer?.close());

describe('preparing batches', () => {
  it('sends big batches to the worker thread and gets what preparing them here gives', async () => {
    preparer = new BatchPreparer('read_models');
    const big = packBatch(messages(WORKER_MIN_BATCH + 50));
    const small = packBatch(messages(3, 1_000));
    const [fromWorker, here] = await Promise.all([preparer.prepare(big), preparer.prepare(small)]);
    expect(preparer.sentToWorker).toBe(1);
    expect(fromWorker).toEqual(preparePacked(big, 'read_models'));
    expect(here).toEqual(preparePacked(small, 'read_models'));
    // The caller keeps its batch (the worker got a copy): it may have to prepare part of it again.
    expect(big.seqs.length).toBe(WORKER_MIN_BATCH + 50);
  });

  it('rejects a batch the worker could not prepare, and keeps preparing the next ones', async () => {
    preparer = new BatchPreparer('read_models', { minBatch: 1 });
    const broken = { ...packBatch(messages(2)), bounds: undefined } as unknown as PackedBatch; // unpacking it throws on the worker
    await expect(preparer.prepare(broken)).rejects.toThrow(/preparing a batch failed: TypeError/);
    const next = packBatch(messages(2, 10));
    expect(await preparer.prepare(next)).toEqual(preparePacked(next, 'read_models'));
  });

  it('prepares on the calling thread once the worker fails, and says so once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cra-worker-'));
    const broken = join(dir, 'broken.mjs');
    await writeFile(broken, "throw new Error('cannot start');\n");
    const failures: Error[] = [];
    preparer = new BatchPreparer('read_models', {
      minBatch: 1,
      workerUrl: pathToFileURL(broken),
      onWorkerFailure: (e) => failures.push(e),
    });
    const batches = [packBatch(messages(5)), packBatch(messages(5, 100))];
    const prepared = await Promise.all(batches.map((b) => preparer!.prepare(b)));
    expect(prepared).toEqual(batches.map((b) => preparePacked(b, 'read_models')));
    const later = packBatch(messages(5, 200));
    expect(await preparer.prepare(later)).toEqual(preparePacked(later, 'read_models'));
    expect(preparer.sentToWorker).toBe(2);
    expect(failures.map((e) => e.message)).toEqual(['cannot start']);
    await rm(dir, { recursive: true });
  });

  it('rejects what was still being prepared when it is closed', async () => {
    preparer = new BatchPreparer('read_models', { minBatch: 1 });
    const pending = preparer.prepare(packBatch(messages(WORKER_MIN_BATCH * 4)));
    await preparer.close();
    await expect(pending).rejects.toThrow(/closed/);
  });
});
