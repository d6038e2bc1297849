// `npm run cluster`: the whole system on a three-node JetStream cluster on this machine, to watch or to try faults on.
import { freePort } from '../../platform/embedded.ts';
import { openClusterBed } from './support.ts';

const port = Number(process.env.PORT ?? 7007);
const webPorts = [port, port === 7007 ? 7008 : await freePort()];
const publicUrl = `http://127.0.0.1:${port}`;
process.stdout.write('starting three nats-servers, Postgres and two processes of every service…\n');
const bed = await openClusterBed({ webPorts, env: { PUBLIC_URL: publicUrl }, realRates: true });
const { lab, fleet } = bed;
const lines = [
  `web:      ${fleet.webUrls.join('  ')}`,
  `NATS:     ${lab.nats.nodes.map((n) => `${n.name} ${n.address} (pid ${n.pid()})`).join(', ')}; user cra, password ${lab.nats.password}`,
  `          stream ${lab.ns.stream} at replicas 3; try: kill -STOP <pid>, kill -9 <pid>`,
  `Postgres: ${process.env.DATABASE_URL ? 'DATABASE_URL' : lab.postgres.url}, schema ${lab.schema}`,
  `services: ${fleet.processes.map((p) => `${p.label} (pid ${p.pid})`).join(', ')}`,
  'emails are printed here as the mail server accepts them. Ctrl-C stops everything.',
];
process.stdout.write(`${lines.join('\n')}\n`);
let shown = 0;
const mail = setInterval(() => {
  for (const email of lab.mail.accepted.slice(shown)) {
    const link = /https?:\/\/\S+/.exec(email.text)?.[0] ?? '';
    process.stdout.write(`email to ${email.to}: ${email.subject} ${link}\n`);
  }
  shown = lab.mail.accepted.length;
}, 500);
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  clearInterval(mail);
  process.stdout.write('stopping…\n');
  await bed.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
