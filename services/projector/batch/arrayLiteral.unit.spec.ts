import { describe, expect, it } from 'vitest';
import { columnLiteral } from './arrayLiteral.ts';

describe('columnLiteral', () => {
  it('quotes text, escapes quotes and backslashes, and leaves numbers, booleans and NULL bare', () => {
    const rows = [
      { v: 'plain' },
      { v: 'say "hi"' },
      { v: 'back\\slash' },
      { v: '{a,b}' },
      { v: 'NULL' },
      { v: '' },
      { v: null },
      { v: 42 },
      { v: true },
    ];
    expect(columnLiteral(rows, (r) => r.v)).toBe(
      '{"plain","say \\"hi\\"","back\\\\slash","{a,b}","NULL","",NULL,42,true}',
    );
  });
  it('writes an empty column as an empty array', () => {
    expect(columnLiteral([], () => 'x')).toBe('{}');
  });
});
