import { describe, expect, it } from 'vitest';
import { BatchedLookup } from './batchedLookup.ts';

/** A lookup whose queries are held open until the test lets each one finish, recording what each carried. */
function heldQueries(maxInFlight = 1) {
  const queries: { items: number[]; finish: (error?: Error) => void }[] = [];
  const lookup = new BatchedLookup<number, string>(
    (items) =>
      new Promise((resolve, reject) => {
        queries.push({ items, finish: (error) => (error ? reject(error) : resolve(items.map((n) => `answer ${n}`))) });
      }),
    { maxBatch: 3, maxInFlight },
  );
  return { lookup, queries };
}
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('BatchedLookup', () => {
  it('sends the first lookup at once, and answers each caller with its own result', async () => {
    const { lookup, queries } = heldQueries();
    const first = lookup.lookup(1);
    expect(queries.map((q) => q.items)).toEqual([[1]]);
    queries[0]!.finish();
    expect(await first).toBe('answer 1');
  });

  it('never adds a lookup to a query already sent: it waits for the next, with all asked meanwhile', async () => {
    const { lookup, queries } = heldQueries();
    const answers = [lookup.lookup(1), lookup.lookup(2), lookup.lookup(3)];
    expect(queries.map((q) => q.items)).toEqual([[1]]);
    queries[0]!.finish();
    await settle();
    expect(queries.map((q) => q.items)).toEqual([[1], [2, 3]]);
    queries[1]!.finish();
    expect(await Promise.all(answers)).toEqual(['answer 1', 'answer 2', 'answer 3']);
  });

  it('runs one query at a time when so limited, each carrying at most the batch limit', async () => {
    const { lookup, queries } = heldQueries();
    const answers = [1, 2, 3, 4, 5, 6].map((n) => lookup.lookup(n));
    queries[0]!.finish();
    await settle();
    expect(queries.map((q) => q.items)).toEqual([[1], [2, 3, 4]]);
    queries[1]!.finish();
    await settle();
    expect(queries.map((q) => q.items)).toEqual([[1], [2, 3, 4], [5, 6]]);
    queries[2]!.finish();
    expect(await Promise.all(answers)).toHaveLength(6);
  });

  it('fails every lookup of a failed query, and the next query still runs', async () => {
    const { lookup, queries } = heldQueries();
    const first = lookup.lookup(1);
    const second = lookup.lookup(2);
    queries[0]!.finish(new Error('connection lost'));
    await expect(first).rejects.toThrow('connection lost');
    await settle();
    queries[1]!.finish();
    expect(await second).toBe('answer 2');
    const third = lookup.lookup(3);
    expect(queries.at(-1)!.items).toEqual([3]);
    queries.at(-1)!.finish();
    expect(await third).toBe('answer 3');
  });

  it('runs a few queries at once when allowed, each with only the lookups asked before it was sent', async () => {
    const { lookup, queries } = heldQueries(2);
    const answers = [1, 2, 3, 4].map((n) => lookup.lookup(n));
    expect(queries.map((q) => q.items)).toEqual([[1], [2]]);
    queries[1]!.finish();
    await settle();
    expect(queries.map((q) => q.items)).toEqual([[1], [2], [3, 4]]);
    const late = lookup.lookup(5);
    expect(queries).toHaveLength(3);
    queries[0]!.finish();
    await settle();
    expect(queries.map((q) => q.items)).toEqual([[1], [2], [3, 4], [5]]);
    queries[2]!.finish();
    queries[3]!.finish();
    expect(await Promise.all([...answers, late])).toEqual(['answer 1', 'answer 2', 'answer 3', 'answer 4', 'answer 5']);
  });

  it('refuses answers that do not match the lookups one to one', async () => {
    const lookup = new BatchedLookup<number, number>(async () => [1, 2]);
    await expect(lookup.lookup(1)).rejects.toThrow(/a batch of 1 lookups got 2 answers/);
  });
});

describe('BatchedLookup with gather', () => {
  it('sends a lookup only once gather resolves, with every lookup asked meanwhile', async () => {
    let gathered: () => void = () => {};
    const queries: number[][] = [];
    const lookup = new BatchedLookup<number, number>(async (items) => (queries.push(items), items.map((n) => n * 10)), {
      gather: () => new Promise<void>((resolve) => (gathered = resolve)),
    });
    const answers = [1, 2, 3].map((n) => lookup.lookup(n));
    await settle();
    expect(queries).toEqual([]);
    gathered();
    expect(await Promise.all(answers)).toEqual([10, 20, 30]);
    expect(queries).toEqual([[1, 2, 3]]);
    const next = lookup.lookup(4);
    gathered();
    expect(await next).toBe(40);
    expect(queries).toEqual([[1, 2, 3], [4]]);
  });
});
