import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '@cdktf/hcl2json';
import { beforeAll, describe, expect, it } from 'vitest';
import { serviceNames } from '../../cli/start.ts';

// Static checks of the Nomad job files: parsed with HashiCorp's HCL parser (hcl2json), then inspected.
// hcl2json's shape: an unlabelled block is an array of objects (`update: [{…}]`), a labelled block is an
// object keyed by label whose values are such arrays (`group: { web: [{…}] }`), and an expression that is not
// a literal stays as its source text (`count: "${var.web_count}"`), which `resolve` looks up.

type Block = Record<string, unknown>;

const here = dirname(fileURLToPath(import.meta.url));

/** The services of docs/design.md §2 and §6; `serviceNames` (cli/start.ts) grows towards it as services are built. */
const designServices = ['web', 'command', 'projector', 'notifier', 'scheduler'];
const allServices = [...new Set([...designServices, ...serviceNames])];

/** What each CRA service must get in production, besides what every one of them gets. */
const requiredEverywhere = ['NATS_URL', 'DATABASE_URL', 'JWT_SECRET', 'CRA_MASTER_KEY', 'PUBLIC_URL'];
const requiredFor: Record<string, string[]> = {
  web: ['PORT', 'HOST', 'METRICS_TOKEN'],
  notifier: ['SMTP_URL', 'MAIL_FROM'],
  scheduler: ['RATES_PROVIDER'],
};
/** Never in an `env` block: only from a Nomad Variable through a template. */
const secretKeys = ['JWT_SECRET', 'CRA_MASTER_KEY', 'DATABASE_URL', 'SMTP_URL', 'RATES_API_KEY', 'METRICS_TOKEN'];
/** platform/shutdown.ts closes everything within 10 s of SIGTERM; Nomad must wait longer before SIGKILL. */
const shutdownDeadlineMs = 10_000;

type JobFile = { file: string; text: string; json: Block; name: string; job: Block };

const isBlock = (v: unknown): v is Block => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An unlabelled block (`update`, `network`, `env`…): all its occurrences. */
function blocks(parent: Block, name: string): Block[] {
  const v = parent[name];
  return Array.isArray(v) ? v.filter(isBlock) : [];
}

/** A labelled block (`job "x"`, `group "x"`, `port "x"`…): [label, body] for each occurrence. */
function labelled(parent: Block, name: string): [string, Block][] {
  const v = parent[name];
  if (!isBlock(v)) return [];
  return Object.entries(v).flatMap(([label, bodies]) =>
    Array.isArray(bodies) ? bodies.filter(isBlock).map((b): [string, Block] => [label, b]) : [],
  );
}

function one(parent: Block, name: string, label: string): Block {
  const found = labelled(parent, name).filter(([l]) => l === label);
  expect(found, `${name} "${label}"`).toHaveLength(1);
  return found[0]![1];
}

/** Replace `${var.x}` / `${local.x}` with the variable's default or the local's value. */
function resolver(json: Block): (value: unknown) => unknown {
  const defaults: Record<string, unknown> = Object.fromEntries(
    labelled(json, 'variable').map(([name, body]) => [name, body.default]),
  );
  const locals: Record<string, unknown> = Object.assign({}, ...blocks(json, 'locals'));
  const lookup = (kind: string, name: string): unknown => (kind === 'var' ? defaults[name] : locals[name]);
  const resolve = (value: unknown): unknown => {
    if (typeof value !== 'string') return value;
    const whole = /^\$\{(var|local)\.(\w+)\}$/.exec(value);
    if (whole) return resolve(lookup(whole[1]!, whole[2]!));
    return value.replace(/\$\{(var|local)\.(\w+)\}/g, (ref, kind: string, name: string) => {
      const v = resolve(lookup(kind, name));
      return typeof v === 'string' || typeof v === 'number' ? String(v) : ref;
    });
  };
  return resolve;
}

function durationMs(value: unknown): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(String(value));
  if (!m) throw new Error(`not a duration: ${String(value)}`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

type Template = { data: string; destination: string; env: boolean; changeMode: string };

function templates(task: Block, resolve: (v: unknown) => unknown): Template[] {
  return blocks(task, 'template').map((t) => ({
    data: String(resolve(t.data) ?? ''),
    destination: String(t.destination ?? ''),
    env: t.env === true,
    changeMode: String(t.change_mode ?? 'restart'),
  }));
}

/** Keys a rendered env template sets: `KEY=` at the start of a line of its source. */
const templateKeys = (data: string) => [...data.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);

function envBlockKeys(task: Block): string[] {
  return blocks(task, 'env').flatMap((e) => Object.keys(e));
}

/** All env keys a task gets, from `env` blocks and from templates with `env = true`. */
function envKeys(task: Block, resolve: (v: unknown) => unknown): Set<string> {
  const fromTemplates = templates(task, resolve)
    .filter((t) => t.env)
    .flatMap((t) => templateKeys(t.data));
  return new Set([...envBlockKeys(task), ...fromTemplates]);
}

function commandLine(task: Block): string[] {
  const config = blocks(task, 'config')[0] ?? {};
  const command = typeof config.command === 'string' ? [config.command] : [];
  const args = Array.isArray(config.args) ? config.args.map(String) : [];
  return [...command, ...args];
}

function ports(group: Block): Map<string, Block> {
  return new Map(blocks(group, 'network').flatMap((n) => labelled(n, 'port')));
}

function services(group: Block): Block[] {
  return [...blocks(group, 'service'), ...labelled(group, 'task').flatMap(([, t]) => blocks(t, 'service'))];
}

const jobs = new Map<string, JobFile>();

beforeAll(async () => {
  for (const file of readdirSync(here).filter((f) => f.endsWith('.nomad.hcl'))) {
    const text = readFileSync(join(here, file), 'utf8');
    const json = await parse(file, text);
    const [entry, ...more] = labelled(json, 'job');
    if (!entry || more.length > 0) throw new Error(`${file} must hold exactly one job`);
    jobs.set(file, { file, text, json, name: entry[0], job: entry[1] });
  }
});

function jobFile(file: string): JobFile {
  const found = jobs.get(file);
  if (!found) throw new Error(`${file} was not parsed`);
  return found;
}

describe('deploy/nomad job files', () => {
  it('holds the CRA, NATS and Postgres jobs, each parsing as HCL', () => {
    expect([...jobs.keys()].sort()).toEqual(
      expect.arrayContaining(['cra.nomad.hcl', 'nats.nomad.hcl', 'postgres.nomad.hcl']),
    );
  });

  it('contains no literal secret in any file (job files and README)', () => {
    const files = readdirSync(here).filter((f) => f.endsWith('.hcl') || f.endsWith('.md'));
    // A value must be a template, a shell expansion or a <placeholder>, never the secret itself.
    const placeholder = /^(\{\{|\$|<|…|$)/;
    for (const file of files) {
      const text = readFileSync(join(here, file), 'utf8');
      for (const m of text.matchAll(/\b(\w*(?:SECRET|PASSWORD|API_KEY|TOKEN))\s*(?:=|:(?!=))\s*["']?([^\s"']*)/gi)) {
        expect(m[2], `${file}: ${m[0]}`).toMatch(placeholder);
      }
      for (const m of text.matchAll(/\b[a-z][a-z0-9+.-]*:\/\/([^\s:/@'"]+):([^\s@'"]*)@/gi)) {
        expect(m[2], `${file}: credentials in ${m[0]}`).toMatch(placeholder);
      }
    }
  });

  it('makes every update stanza revert a failed deployment', () => {
    for (const { file, job } of jobs.values()) {
      const updates = [...blocks(job, 'update'), ...labelled(job, 'group').flatMap(([, g]) => blocks(g, 'update'))];
      expect(updates.length, file).toBeGreaterThan(0);
      for (const u of updates) expect(u.auto_revert, file).toBe(true);
    }
  });

  it('gives every task resources and a kill timeout, and every group restart and reschedule policies', () => {
    for (const { file, job } of jobs.values()) {
      for (const [groupName, group] of labelled(job, 'group')) {
        expect(blocks(group, 'restart'), `${file} ${groupName} restart`).toHaveLength(1);
        expect(blocks(group, 'reschedule'), `${file} ${groupName} reschedule`).toHaveLength(1);
        for (const [taskName, task] of labelled(group, 'task')) {
          expect(blocks(task, 'resources'), `${file} ${taskName} resources`).toHaveLength(1);
          expect(durationMs(task.kill_timeout), `${file} ${taskName} kill_timeout`).toBeGreaterThan(0);
        }
      }
    }
  });
});

describe('cra.nomad.hcl', () => {
  const cra = () => jobFile('cra.nomad.hcl');
  const resolve = (v: unknown) => resolver(cra().json)(v);
  const group = (name: string) => one(cra().job, 'group', name);
  const tasks = () =>
    labelled(cra().job, 'group').flatMap(([g, body]) =>
      labelled(body, 'task').map(([t, task]) => ({ group: g, task: t, body: task })),
    );

  it('names the five services of the design, whatever cli/start.ts exports today', () => {
    expect(allServices).toEqual(expect.arrayContaining(designServices));
    expect(labelled(cra().job, 'group').map(([name]) => name)).toEqual(expect.arrayContaining(designServices));
  });

  it.each(allServices)('has a group "%s" whose task runs `node bin/cra.mjs start <service>`', (service) => {
    const runs = labelled(group(service), 'task').map(([, t]) => commandLine(t));
    expect(runs.length).toBeGreaterThan(0);
    for (const run of runs) {
      expect(run).toContain('bin/cra.mjs');
      const i = run.indexOf('start');
      expect(i, run.join(' ')).toBeGreaterThanOrEqual(0);
      expect(run.slice(i, i + 2)).toEqual(['start', service]);
    }
  });

  it('scales web, command and notifier out and runs one projector and one scheduler', () => {
    for (const name of ['web', 'command', 'notifier'])
      expect(Number(resolve(group(name).count)), name).toBeGreaterThanOrEqual(2);
    expect(resolve(group('projector').count)).toBe(1);
    expect(resolve(group('scheduler').count)).toBe(1);
  });

  it('gives every task each environment variable its service needs in production', () => {
    for (const { group: g, task, body } of tasks()) {
      const keys = envKeys(body, resolve);
      for (const key of [...requiredEverywhere, ...(requiredFor[g] ?? [])])
        expect(keys.has(key), `${g}/${task} lacks ${key}`).toBe(true);
    }
  });

  it('takes secrets only from the Nomad Variable nomad/jobs/cra, rendered into secrets/', () => {
    for (const { group: g, task, body } of tasks()) {
      expect(
        envBlockKeys(body).filter((k) => secretKeys.includes(k)),
        `${g}/${task} env block`,
      ).toEqual([]);
      for (const t of templates(body, resolve)) {
        const secrets = templateKeys(t.data).filter((k) => secretKeys.includes(k));
        if (secrets.length === 0) continue;
        expect(t.env, `${g}/${task} ${t.destination}`).toBe(true);
        expect(t.data, `${g}/${task} ${t.destination}`).toContain('nomadVar "nomad/jobs/cra"');
        expect(t.destination, `${g}/${task} ${secrets.join(',')}`).toMatch(/^(secrets\/|\$\{NOMAD_SECRETS_DIR\}\/)/);
      }
    }
  });

  it('finds NATS and Postgres through the services the other two jobs register', () => {
    const registered = new Set(
      ['nats.nomad.hcl', 'postgres.nomad.hcl'].flatMap((f) =>
        labelled(jobFile(f).job, 'group').flatMap(([, g]) => services(g).map((s) => String(s.name))),
      ),
    );
    for (const { group: g, body } of tasks()) {
      const data = templates(body, resolve)
        .map((t) => t.data)
        .join('\n');
      const discovered = [...data.matchAll(/nomadService "([^"]+)"/g)].map((m) => m[1]!);
      expect(discovered, g).toEqual(expect.arrayContaining(['nats', 'postgres']));
      for (const name of discovered) expect(registered.has(name), `${g} looks up service "${name}"`).toBe(true);
    }
  });

  it('exposes web on port "http" with an http check on /healthz and /metrics as a Prometheus target', () => {
    const web = group('web');
    expect(ports(web).has('http')).toBe(true);
    const service = services(web).find((s) => s.port === 'http');
    expect(service, 'a service on port "http"').toBeDefined();
    const checks = blocks(service!, 'check');
    expect(checks.some((c) => c.type === 'http' && c.path === '/healthz')).toBe(true);
    const tags = Array.isArray(service!.tags) ? service!.tags.map(String) : [];
    const meta = Object.assign({}, ...blocks(service!, 'meta')) as Block;
    expect(tags).toContain('prometheus');
    expect(meta.metrics_path).toBe('/metrics');
    const webTask = labelled(web, 'task')[0]![1];
    expect(blocks(webTask, 'config')[0]?.ports).toEqual(['http']);
  });

  it('has web listen on every interface of its task (the loopback default would not take the mapped port), and only web', () => {
    for (const { group: g, body } of tasks()) {
      const host = blocks(body, 'env')
        .map((e) => resolve(e.HOST))
        .find((v) => v !== undefined);
      expect(host, g).toBe(g === 'web' ? '0.0.0.0' : undefined);
    }
  });

  it('lets Prometheus scrape /metrics with the bearer token from nomad/jobs/cra, and nobody without it', () => {
    const web = group('web');
    const service = services(web).find((s) => s.port === 'http')!;
    expect((Object.assign({}, ...blocks(service, 'meta')) as Block).metrics_auth).toBe('bearer');
    const [, webTask] = labelled(web, 'task')[0]!;
    const token = templates(webTask, resolve).find((t) => templateKeys(t.data).includes('METRICS_TOKEN'));
    expect(token?.data).toContain('nomadVar "nomad/jobs/cra"');
    expect(token?.env).toBe(true);
    // Not optional (`with .METRICS_TOKEN`): a missing key must stop web, not leave /metrics to loopback only, unscrapable.
    expect(token?.data).toMatch(/^METRICS_TOKEN=\{\{ \.METRICS_TOKEN \| toJSON \}\}$/m);
  });

  it('rolls updates out with a canary, health checks, one at a time, and auto-revert', () => {
    const jobUpdate = blocks(cra().job, 'update');
    expect(jobUpdate).toHaveLength(1);
    const u = jobUpdate[0]!;
    expect(u.canary).toBeGreaterThanOrEqual(1);
    expect(u.auto_revert).toBe(true);
    expect(u.max_parallel).toBe(1);
    expect(u.health_check).toBe('checks');
    for (const [name, g] of labelled(cra().job, 'group')) {
      for (const gu of blocks(g, 'update')) {
        expect(gu.canary ?? u.canary, name).toBeGreaterThanOrEqual(1);
        expect(gu.auto_revert ?? u.auto_revert, name).toBe(true);
      }
    }
  });

  it('gives every service time to shut down on SIGTERM before it is killed', () => {
    for (const { task, body } of tasks()) {
      expect(body.kill_signal ?? 'SIGTERM', task).toBe('SIGTERM');
      expect(durationMs(body.kill_timeout), task).toBeGreaterThan(shutdownDeadlineMs);
    }
  });
});

describe('nats.nomad.hcl', () => {
  const nats = () => jobFile('nats.nomad.hcl');
  const resolve = (v: unknown) => resolver(nats().json)(v);
  const groups = () => labelled(nats().job, 'group');

  it('runs three nodes, one per client', () => {
    expect(groups()).toHaveLength(1);
    const [, g] = groups()[0]!;
    expect(resolve(g.count)).toBe(3);
    expect(blocks(g, 'constraint').some((c) => c.operator === 'distinct_hosts')).toBe(true);
  });

  it('enables JetStream with its file store on a mounted volume', () => {
    const [, g] = groups()[0]!;
    const volumes = labelled(g, 'volume');
    expect(volumes.length).toBeGreaterThan(0);
    expect(volumes.every(([, v]) => v.type === 'host' || v.type === 'csi')).toBe(true);
    const [, task] = labelled(g, 'task')[0]!;
    const mounts = blocks(task, 'volume_mount');
    expect(mounts.map((m) => m.volume)).toEqual(expect.arrayContaining(volumes.map(([name]) => name)));
    const conf = templates(task, resolve)
      .map((t) => t.data)
      .join('\n');
    const storeDir = /jetstream\s*\{[^}]*store_dir:\s*"([^"]+)"/.exec(conf)?.[1];
    expect(storeDir, 'jetstream { store_dir }').toBeDefined();
    expect(mounts.some((m) => storeDir!.startsWith(String(m.destination)))).toBe(true);
  });

  it('clusters on 6222 through routes found by service discovery, serves clients on 4222, monitors on 8222', () => {
    const [, g] = groups()[0]!;
    const p = ports(g);
    const number = (label: string) => p.get(label)?.to ?? p.get(label)?.static;
    expect([number('client'), number('cluster'), number('monitor')]).toEqual([4222, 6222, 8222]);
    const [, task] = labelled(g, 'task')[0]!;
    const conf = templates(task, resolve)
      .map((t) => t.data)
      .join('\n');
    expect(conf).toMatch(/cluster\s*\{[\s\S]*listen:\s*"0\.0\.0\.0:6222"/);
    expect(conf).toMatch(/routes:\s*\[[\s\S]*nomadService "nats-cluster"/);
    expect(services(g).map((s) => s.name)).toEqual(expect.arrayContaining(['nats', 'nats-cluster']));
  });

  it('pins an exact nats-server release with the ephemeral-placement fix (PR #7165: 2.11.8+, 2.12.0+), never a moving tag', () => {
    const [, g] = groups()[0]!;
    const [, task] = labelled(g, 'task')[0]!;
    const image = String(resolve(blocks(task, 'config')[0]?.image));
    const [, major, minor, patch] = /^nats:(\d+)\.(\d+)\.(\d+)(?:-[a-z0-9.]+)?$/.exec(image) ?? [];
    expect(patch, `${image} is an exact x.y.z release`).toBeDefined();
    const [a, b, c] = [Number(major), Number(minor), Number(patch)];
    expect(a > 2 || (a === 2 && (b > 11 || (b === 11 && c >= 8))), `${image} has the fix`).toBe(true);
  });

  it('fsyncs every JetStream write before acknowledging it, and pings clients and routes every 2 s', () => {
    const [, g] = groups()[0]!;
    const [, task] = labelled(g, 'task')[0]!;
    const conf = templates(task, resolve)
      .map((t) => t.data)
      .join('\n');
    expect(conf).toMatch(/jetstream\s*\{[^}]*sync_interval:\s*always/);
    expect(conf).toMatch(/^\s*ping_interval:\s*"2s"/m);
    expect(conf).toMatch(/^\s*ping_max:\s*2/m);
  });

  it('checks health on /healthz?js-enabled-only=true of the monitoring port', () => {
    const [, g] = groups()[0]!;
    const checks = services(g).flatMap((s) => blocks(s, 'check'));
    expect(
      checks.some((c) => c.type === 'http' && c.port === 'monitor' && c.path === '/healthz?js-enabled-only=true'),
    ).toBe(true);
  });

  it('has the CRA services keep the stream on all 3 nodes (CRA_STREAM_REPLICAS = "3" in every task)', () => {
    const cra = jobFile('cra.nomad.hcl').text;
    expect(cra.match(/CRA_STREAM_REPLICAS\s*=\s*"3"/g)?.length).toBe(designServices.length);
  });
});

describe('postgres.nomad.hcl', () => {
  const pg = () => jobFile('postgres.nomad.hcl');
  const resolve = (v: unknown) => resolver(pg().json)(v);
  const only = () => {
    const [[, g]] = labelled(pg().job, 'group') as [[string, Block]];
    const [[, task]] = labelled(g, 'task') as [[string, Block]];
    return { g, task };
  };

  it('runs Postgres 15 or 16 with its data directory on a volume', () => {
    const { g, task } = only();
    expect(String(resolve(blocks(task, 'config')[0]?.image))).toMatch(/^postgres:1[56]\b/);
    const volumes = labelled(g, 'volume');
    expect(volumes.length).toBeGreaterThan(0);
    const mount = blocks(task, 'volume_mount')[0];
    expect(volumes.map(([name]) => name)).toContain(mount?.volume);
    expect(mount?.destination).toBe('/var/lib/postgresql/data');
    const pgdata = blocks(task, 'env')[0]?.PGDATA;
    if (pgdata !== undefined) expect(String(pgdata).startsWith('/var/lib/postgresql/data')).toBe(true);
  });

  it('takes the password only from the Nomad Variable nomad/jobs/postgres', () => {
    const { task } = only();
    expect(envBlockKeys(task)).not.toContain('POSTGRES_PASSWORD');
    const t = templates(task, resolve).find((x) => templateKeys(x.data).includes('POSTGRES_PASSWORD'));
    expect(t?.env).toBe(true);
    expect(t?.data).toContain('nomadVar "nomad/jobs/postgres"');
    expect(t?.destination).toMatch(/^secrets\//);
  });

  it('registers a "postgres" service with a TCP check', () => {
    const { g } = only();
    const service = services(g).find((s) => s.name === 'postgres');
    expect(service).toBeDefined();
    expect(blocks(service!, 'check').some((c) => c.type === 'tcp')).toBe(true);
  });
});
