import { describe, expect, it } from 'vitest';
import { batchStatements } from './batchStatements.ts';

const insert = (v: unknown[]) => ({ text: 'INSERT INTO "s"."alerts" (a, b) VALUES ($1, $2::numeric) ON CONFLICT DO NOTHING', values: v });
const activity = (v: unknown[]) => ({ text: 'INSERT INTO "s"."activity" (a, b) VALUES ($1, $2)', values: v, appendOnly: true });
const update = (v: unknown[]) => ({ text: 'UPDATE "s"."alerts" SET b = $2 WHERE a = $1', values: v });
const upsert = (v: unknown[]) => ({ text: 'INSERT INTO "s"."users" (a) VALUES ($1) ON CONFLICT (a) DO UPDATE SET a = $1', values: v });

describe('batchStatements', () => {
  it('folds consecutive inserts of one text into a multi-row insert, renumbering placeholders', () => {
    expect(batchStatements([insert([1, '2']), insert([3, '4']), insert([5, '6'])])).toEqual([
      { text: 'INSERT INTO "s"."alerts" (a, b) VALUES ($1, $2::numeric), ($3, $4::numeric), ($5, $6::numeric) ON CONFLICT DO NOTHING', values: [1, '2', 3, '4', 5, '6'] },
    ]);
  });
  it('keeps order across other statements, so an update sees the rows inserted before it', () => {
    const out = batchStatements([insert([1, 'a']), update([1, 'b']), insert([2, 'c'])]);
    expect(out.map((s) => s.text.split(' ')[0])).toEqual(['INSERT', 'UPDATE', 'INSERT']);
    expect(out[0]!.values).toEqual([1, 'a']);
  });
  it('moves append-only statements to the end and folds them together', () => {
    const out = batchStatements([insert([1, 'a']), activity([1, 'x']), update([1, 'b']), activity([2, 'y'])]);
    expect(out.map((s) => s.text.split(' ')[0])).toEqual(['INSERT', 'UPDATE', 'INSERT']);
    expect(out[2]).toEqual({ text: 'INSERT INTO "s"."activity" (a, b) VALUES ($1, $2), ($3, $4)', values: [1, 'x', 2, 'y'] });
  });
  it('never folds an upsert (ON CONFLICT DO UPDATE may not touch a row twice in one statement)', () => {
    expect(batchStatements([upsert([1]), upsert([1])])).toHaveLength(2);
  });
  it('splits a fold that would pass the parameter limit', () => {
    const out = batchStatements([insert([1, 'a']), insert([2, 'b']), insert([3, 'c'])], 4);
    expect(out.map((s) => s.values.length)).toEqual([4, 2]);
  });
});
