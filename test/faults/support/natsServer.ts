import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { freePort, startNatsServer, type EmbeddedNats } from '../../../platform/embedded.ts';
import { connectNats } from '../../../platform/nats.ts';
import { onExit } from './cleanup.ts';

/**
 * The embedded `nats-server -js` (its own store, a free loopback port, a password) in a directory of its own, which
 * the test may stop and start again: JetStream recovers its streams from disk.
 */
export type PrivateNats = EmbeddedNats & {
  destroy: () => Promise<void>;
  /** The server's own directory on this machine (its configuration, and its JetStream store under `nats/`); none for a container. */
  dir?: string;
};

/** `maxPayload`: the largest message the server takes (bytes; its default is 1 MB). */
export async function startPrivateNats(options: { maxPayload?: number } = {}): Promise<PrivateNats & { dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'cra-fault-nats-'));
  const forget = onExit(() => {
    try {
      process.kill(Number(readFileSync(join(dir, 'nats-server.pid'), 'utf8')), 'SIGKILL');
    } catch {
      // not running
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const nats = await startNatsServer(dir, undefined, undefined, options);
  return {
    ...nats,
    dir,
    destroy: async () => {
      forget();
      await nats.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One node of a private cluster: the embedded server, plus what a fault test does to its process. */
export type ClusterNode = EmbeddedNats & {
  name: string;
  /** The running nats-server's process id (from its pid file), undefined while it is stopped. */
  pid: () => number | undefined;
  /** SIGSTOP: the process stays, its sockets stay open, it answers nothing (a frozen VM, a GC pause, a hung disk). */
  freeze: () => void;
  thaw: () => void;
};

/**
 * A JetStream cluster of `size` nodes on loopback (cluster name and routes as deploy/nomad/nats.nomad.hcl forms them),
 * each with its own store dir, all sharing one client password. `url` names every node, as NATS_URL does in production.
 */
export type PrivateNatsCluster = { url: string; password: string; nodes: ClusterNode[]; destroy: () => Promise<void> };

export async function startPrivateNatsCluster(size = 3): Promise<PrivateNatsCluster> {
  const root = mkdtempSync(join(tmpdir(), 'cra-cluster-nats-'));
  const dirs = Array.from({ length: size }, (_, i) => join(root, `n${i + 1}`));
  const pidOf = (dir: string) => {
    try {
      const pid = Number(readFileSync(join(dir, 'nats-server.pid'), 'utf8'));
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  };
  const forget = onExit(() => {
    for (const dir of dirs) {
      const pid = pidOf(dir);
      if (pid === undefined) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // not running
      }
    }
    rmSync(root, { recursive: true, force: true });
  });
  const password = randomBytes(24).toString('hex');
  const routePorts = await Promise.all(dirs.map(() => freePort()));
  const started = await Promise.all(
    dirs.map((dir, i) =>
      startNatsServer(dir, undefined, undefined, {
        password,
        cluster: { name: 'cra', serverName: `n${i + 1}`, routePort: routePorts[i]!, routePorts },
      }),
    ),
  );
  await untilJetStreamAnswers(started.map((n) => n.url).join(','));
  const nodes = started.map((nats, i): ClusterNode => {
    const dir = dirs[i]!;
    const signal = (s: NodeJS.Signals) => {
      const pid = pidOf(dir);
      if (pid !== undefined) process.kill(pid, s);
    };
    return {
      ...nats,
      name: `n${i + 1}`,
      pid: () => pidOf(dir),
      freeze: () => signal('SIGSTOP'),
      thaw: () => signal('SIGCONT'),
    };
  });
  return {
    url: nodes.map((n) => n.url).join(','),
    password,
    nodes,
    destroy: async () => {
      forget();
      for (const node of nodes) node.thaw();
      await Promise.all(nodes.map((node) => node.stop('SIGKILL')));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A new cluster answers JetStream requests only once its nodes have found each other and elected a meta leader. */
async function untilJetStreamAnswers(url: string, timeoutMs = 30_000): Promise<void> {
  const nc = await connectNats(url, { name: 'cluster-ready' });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 2_000, checkAPI: false });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await jsm.getAccountInfo();
        return;
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error(
            `the NATS cluster did not answer JetStream requests within ${timeoutMs} ms: ${(error as Error).message}`,
          );
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } finally {
    await nc.close();
  }
}
