import { freePort } from '../../platform/embedded.ts';
import { openClusterLab, type ClusterLab } from '../faults/support/lab.ts';
import type { ClusterNode } from '../faults/support/natsServer.ts';
import { startRatesServer, type RatesServer } from '../faults/support/ratesServer.ts';
import { startServiceFleet, type ServiceFleet } from '../faults/support/services.ts';
import { CommandLedger } from '../faults/support/traffic.ts';

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

/** The consumers on the stream now, by name. */
export async function consumerNames(lab: ClusterLab): Promise<string[]> {
  const names: string[] = [];
  for await (const c of lab.jsm.consumers.list(lab.ns.stream)) names.push(c.name);
  return names.sort();
}
