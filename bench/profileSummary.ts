// `node --import tsx bench/profileSummary.ts PROFILE [TOP]`: where a service's CPU time went, from a profile written by
// `npm run bench -- --cpu-prof DIR` (one folder per service process; given a folder, its largest profile, which is
// the main thread's): self time by function and by file, and inclusive time of the project's own functions.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

type Node = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
};
type Profile = { nodes: Node[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] };

const [given, topArg] = process.argv.slice(2);
if (!given) {
  process.stderr.write('usage: node --import tsx bench/profileSummary.ts FILE.cpuprofile|DIR [TOP]\n');
  process.exit(2);
}
process.stdout.on('error', () => process.exit(0));
const largestIn = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).size - statSync(a).size)[0];
const file = statSync(given).isDirectory() ? largestIn(given) : given;
if (!file) throw new Error(`no .cpuprofile in ${given}`);
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Self time per node from the samples and their time deltas (µs).
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);

// The project is wherever this file's checkout is (a worktree too), not a fixed path.
const root = fileURLToPath(new URL('..', import.meta.url));
const short = (url: string) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, '~/')
    .replace(root, '');
const label = (n: Node) =>
  `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;

function table(title: string, entries: Map<string, number>) {
  process.stdout.write(`\n${title}\n`);
  for (const [k, v] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top))
    process.stdout.write(`${pct(v)}  ${(v / 1000).toFixed(0).padStart(7)} ms  ${k}\n`);
}

const selfByFunction = new Map<string, number>();
const selfByFile = new Map<string, number>();
const inclusiveOwn = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id)!;
  selfByFunction.set(label(n), (selfByFunction.get(label(n)) ?? 0) + us);
  const where = n.callFrame.url
    ? short(n.callFrame.url).replace(/^(~\/(@[^/]+\/)?[^/]+).*/, '$1')
    : `(${n.callFrame.functionName})`;
  selfByFile.set(where, (selfByFile.get(where) ?? 0) + us);
  // Inclusive time of the project's own functions (each counted once per sample even when recursive).
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const node = byId.get(at)!;
    if (!node.callFrame.url.includes(root) || node.callFrame.url.includes('node_modules')) continue;
    const key = label(node);
    if (seen.has(key)) continue;
    seen.add(key);
    inclusiveOwn.set(key, (inclusiveOwn.get(key) ?? 0) + us);
  }
}
process.stdout.write(
  `${file}: ${(total / 1000).toFixed(0)} ms sampled over ${((profile.endTime - profile.startTime) / 1000).toFixed(0)} ms\n`,
);
table('self time by function', selfByFunction);
table('self time by package or file', selfByFile);
table("inclusive time of the project's functions", inclusiveOwn);
