import { cpus } from 'node:os';
import type { ServiceProcess } from './child.ts';

/** CPU seconds used so far by each named process, and by the whole machine (everyone's, other load included). */
export type CpuMark = { at: number; machine: number; processes: Record<string, number> };

export async function cpuMark(processes: Record<string, Pick<ServiceProcess<unknown>, 'cpu'>>): Promise<CpuMark> {
  const entries = await Promise.all(Object.entries(processes).map(async ([name, p]) => [name, await p.cpu()] as const));
  const machine = cpus().reduce((sum, c) => sum + c.times.user + c.times.nice + c.times.sys + c.times.irq, 0) / 1000;
  return { at: performance.now(), machine, processes: Object.fromEntries(entries) };
}

/** Where the CPU went between two marks: each process's seconds, and how busy the machine's cores were. */
export function cpuBetween(from: CpuMark, to: CpuMark): string {
  const wall = (to.at - from.at) / 1000;
  const ours = Object.keys(to.processes).map(
    (name) => `${name} ${(to.processes[name]! - (from.processes[name] ?? 0)).toFixed(1)}`,
  );
  return `CPU s over ${wall.toFixed(1)} s: ${ours.join(', ')}; the machine's ${cpus().length} cores ${((100 * (to.machine - from.machine)) / (wall * cpus().length)).toFixed(0)} % busy (every process, others' too)`;
}
