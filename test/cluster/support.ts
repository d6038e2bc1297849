import { freePort } from '../../platform/embedded.ts';
import { openClusterLab, type ClusterLab } from '../faults/support/lab.ts';
import type { ClusterNode } from '../faults/support/natsServer.ts';
import { startRatesServer, type RatesServer } from '../faults/support/ratesServer.ts';
import { startServiceFleet, type ServiceFleet } from '../faults/support/services.ts';
import { CommandLedger, RUN_RATES, startTraffic, type TestUser } from '../faults/support/traffic.ts';

/** The cluster bed: a ClusterLab with two instances of every service, each its own `cra start <service>` process. */
export type ClusterBed = {
  lab: ClusterLab;
  fleet: ServiceFleet;
  rates: RatesServer;
  ledger: CommandLedger;
  close: () => Promise<void>;
};

/**
 * `webPorts`: where the web instances listen (free ports by default); `env`: more environment for every service;
 * `realRates`: the schedulers ask the configured provider (a person's `npm run cluster`), not the tests' silent one.
 */
export async function openClusterBed(
  options: { instances?: number; webPorts?: number[]; env?: Record<string, string>; realRates?: boolean } = {},
): Promise<ClusterBed> {
  const lab = await openClusterLab();
  // The tests' schedulers get no usable rates: runs come from the test (lab.publishRun), at known moments.
  const rates = await startRatesServer({ answer: 'status', status: 503, body: '{}' });
  const instances = options.instances ?? 2;
  const webPorts = options.webPorts ?? (await Promise.all(Array.from({ length: instances }, () => freePort())));
  const scheduler: Record<string, string> = options.realRates
    ? {}
    : { RATES_PROVIDER: 'exchangerate-host', RATES_URL: rates.url, RATES_API_KEY: 'cluster-bed' };
  const fleet = await startServiceFleet((extra) => lab.env({ ...options.env, ...extra }), {
    instances,
    webPorts,
    extraEnv: { scheduler },
  });
  return {
    lab,
    fleet,
    rates,
    ledger: new CommandLedger(lab.send),
    close: async () => {
      await fleet.stop();
      await rates.close();
      await lab.close();
    },
  };
}

/** The node that leads the stream's Raft group now (JetStream's stream info names it). */
export async function streamLeader(lab: ClusterLab): Promise<ClusterNode> {
  const info = await lab.jsm.streams.info(lab.ns.stream);
  const node = lab.nats.nodes.find((n) => n.name === info.cluster?.leader);
  if (!node) throw new Error(`no node leads ${lab.ns.stream} (cluster info: ${JSON.stringify(info.cluster)})`);
  return node;
}

/** The subjects the stream's consumers filter on now, each consumer's own (one entry per filter). */
export async function consumerFilters(lab: ClusterLab): Promise<string[]> {
  const filters: string[] = [];
  for await (const c of lab.jsm.consumers.list(lab.ns.stream))
    filters.push(...(c.config.filter_subjects ?? (c.config.filter_subject ? [c.config.filter_subject] : [])));
  return filters.sort();
}

/**
 * Wait until the stream has a leader and every other replica is current: a node started again must catch up before
 * the next fault, or freezing another node leaves the stream without a quorum and the next test measures the catch-up.
 */
export async function streamHealthy(lab: ClusterLab, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const { cluster } = await lab.jsm.streams.info(lab.ns.stream).catch(() => ({ cluster: undefined }));
    last = JSON.stringify(cluster);
    const replicas = cluster?.replicas ?? [];
    if (
      cluster?.leader &&
      replicas.length === lab.nats.nodes.length - 1 &&
      replicas.every((r) => r.current && !r.offline)
    )
      return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the stream's replicas are not all current after ${timeoutMs} ms (cluster info: ${last})`);
}

/**
 * Steady traffic for a fault: alert changes, logins and registrations from two clients, and a rates run every
 * `runEveryMs` (alternating rates, so every alert crosses and digests go out), until stopped.
 */
export function steadyLoad(bed: ClusterBed, users: readonly TestUser[], runEveryMs = 5_000) {
  const traffic = startTraffic(bed.lab, bed.ledger, users, { workers: 2, pauseMs: 60, registrations: true });
  let runs = 0;
  let runsFailed = 0;
  const timer = setInterval(() => {
    const n = runs++;
    bed.lab.publishRun(`load-${Date.now()}-${n}`, RUN_RATES[n % 2]!).catch(() => runsFailed++);
  }, runEveryMs);
  return {
    runs: () => runs,
    runsFailed: () => runsFailed,
    stop: async () => {
      clearInterval(timer);
      await traffic.stop();
    },
  };
}
