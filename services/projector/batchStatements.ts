import type { Statement } from './applyEvent.ts';

// INSERT … VALUES (one tuple of placeholders) [ON CONFLICT DO NOTHING]: safe to fold into one multi-row INSERT.
const SINGLE_ROW_INSERT = /^(\s*INSERT INTO [^(]+\([^)]*\)\s+VALUES\s+)(\((?:[^()]|\([^()]*\))*\))(\s*(?:ON CONFLICT DO NOTHING)?\s*)$/i;

/**
 * Fewer round trips for a batch, same outcome: append-only statements move to the end (nothing else in the
 * batch reads or writes their rows), then consecutive single-row INSERTs of the same text become one
 * multi-row INSERT. Order among all other statements is kept, so every update still sees the rows before it.
 */
export function batchStatements(statements: readonly Statement[], maxParams = 30_000): Statement[] {
  const ordered = [...statements.filter((s) => !s.appendOnly), ...statements.filter((s) => s.appendOnly)];
  const out: Statement[] = [];
  let run: { text: string; parts: RegExpExecArray; rows: unknown[][] } | undefined;
  const flush = () => {
    if (!run) return;
    if (run.rows.length === 1) out.push({ text: run.text, values: run.rows[0]! });
    else {
      const [, head, tuple, tail] = run.parts;
      const width = run.rows[0]!.length;
      const tuples = run.rows.map((_, r) => tuple!.replace(/\$(\d+)/g, (_m, n: string) => `$${Number(n) + r * width}`));
      out.push({ text: `${head}${tuples.join(', ')}${tail}`, values: run.rows.flat() });
    }
    run = undefined;
  };
  for (const s of ordered) {
    const parts = SINGLE_ROW_INSERT.exec(s.text);
    if (!parts) {
      flush();
      out.push({ text: s.text, values: s.values });
      continue;
    }
    if (run && run.text === s.text && (run.rows.length + 1) * s.values.length <= maxParams) {
      run.rows.push(s.values);
      continue;
    }
    flush();
    run = { text: s.text, parts, rows: [s.values] };
  }
  flush();
  return out;
}
