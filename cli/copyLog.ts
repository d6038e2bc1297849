import {
  jetstream,
  jetstreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type StreamInfo,
} from '@nats-io/jetstream';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import {
  decodeEvents,
  EventDecodeError,
  namespaceFor,
  namespaceOfStream,
  subjects,
  userIdFor,
  type Namespace,
} from '../events/index.ts';
import type { Config } from '../platform/config.ts';
import { EventStore } from '../platform/eventStore/index.ts';
import { ensureDurable, streamConfig } from '../platform/eventStore/provisioning.ts';
import type { Logger } from '../platform/logger.ts';
import { connectNats } from '../platform/nats.ts';
import { deriveKeys, PersonKeys, personKeysBucket } from '../platform/personalData/index.ts';
import type { PersonKey } from '../platform/personalData/personKeys.ts';
import { linkSecret } from '../platform/tokens.ts';
import { CLAIM_MS, NOTIFIER_CONSUMER } from '../services/notifier/main.ts';
import { copiedMessage, keysNeeded, plainUserIdFor, plainUsernames, type CopyContext } from './copiedMessage.ts';
import { findInfrastructure, resolveMasterKey, resolveSecret } from './runtime.ts';

/** A copy that cannot go ahead, and why, in one line. */
export class CopyRefused extends Error {}

/** What an unfinished copy leaves in its stream's description, so that running it again starts it over. */
const unfinished = (source: Namespace) => `cra copy-log from ${source.stream}: unfinished`;

/**
 * `cra copy-log --from STREAM`: copy a log written before personal data was sealed into this namespace's new stream
 * (README "Personal data", docs/design.md §9). Exit 0 once copied; 1 when refused or failed (the line says why).
 */
export async function copyLogCommand(config: Config, logger: Logger, from: string): Promise<number> {
  const target = namespaceFor(config.CRA_NAMESPACE);
  const source = namespaceOfStream(from);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  try {
    if (!source)
      throw new CopyRefused(`--from takes the old stream's name (CRA_EVENTS, OLD_CRA_EVENTS), not "${from}"`);
    if (source.stream === target.stream)
      throw new CopyRefused(
        `${from} is this namespace's own stream: set CRA_NAMESPACE to the new namespace to copy into`,
      );
    const nc = await connectNats((await findInfrastructure(config)).natsUrl, { name: 'cra-copy-log', logger });
    try {
      await copyLog(nc, { source, target, config, out });
    } finally {
      await nc.drain().catch(() => nc.close());
    }
    return 0;
  } catch (error) {
    if (!(error instanceof CopyRefused)) throw error;
    process.stderr.write(`cra: ${error.message}\n`);
    return 1;
  }
}

type CopyOptions = { source: Namespace; target: Namespace; config: Config; out: (line: string) => void };

/**
 * Read the old stream in order and write each message at the same sequence in the new one (copiedMessage.ts), gaps
 * (deleted messages) kept as gaps; then give the notifier's consumer its place in the old log, and mark the copy done.
 * Until then the new stream's description says the copy is unfinished, and a copy run again deletes it and starts over.
 */
export async function copyLog(nc: NatsConnection, { source, target, config, out }: CopyOptions): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const from = await streamInfo(jsm, source.stream);
  if (!from) throw new CopyRefused(`no stream ${source.stream} to copy from`);
  await clearTarget(jsm, source, target, out);
  const { first_seq: firstSeq, last_seq: lastSeq, messages } = from.state;
  const replicas = config.CRA_STREAM_REPLICAS;
  const keys = deriveKeys(resolveMasterKey(config));
  const sourceStore = await EventStore.open(nc, source, { replicas: from.config.num_replicas });
  const read = () => (messages === 0 ? emptyLog() : sourceStore.read({ fromSeq: firstSeq }));

  const ids = await userIdMap(read(), source, keys.userIds);
  await jsm.streams.add({ ...streamConfig(target, replicas), description: unfinished(source) });
  // Sequences before the old log's first are gone there: the new one starts at the same place.
  if (firstSeq > 1) await jsm.streams.purge(target.stream, { seq: firstSeq });
  const targetKeys = await PersonKeys.open(nc, target, keys.wrap, { replicas });
  const sourceBucket = await streamInfo(jsm, `KV_${personKeysBucket(source)}`);
  const sourceKeys = sourceBucket
    ? await PersonKeys.open(nc, source, keys.wrap, { replicas: sourceBucket.config.num_replicas })
    : undefined;
  const notifier = await jsm.consumers.info(source.stream, NOTIFIER_CONSUMER).catch(() => undefined);
  // Erasures the old notifier finished (key destroyed) are finished here by the copy; later ones by the new notifier.
  const notified = notifier?.ack_floor.stream_seq ?? 0;

  const writer = new Writer(jetstream(nc), jsm, target, firstSeq - 1);
  const context = { ids, lookupsKey: keys.lookups, linkSecret: linkSecret(resolveSecret(config)) };
  /** People erased in the copy whose key the new notifier destroys; registered anew first, their key goes then. */
  const erasedPending = new Map<string, number>();
  let kept = 0;
  let unreadable = 0;
  try {
    for await (const raw of read()) {
      let decoded;
      try {
        decoded = decodeEvents(raw.headers, raw.body);
      } catch (error) {
        if (!(error instanceof EventDecodeError)) throw error;
        // Nobody can tell what an unreadable message holds: it is not copied (a gap), rather than copied in plain text.
        out(`sequence ${raw.seq} (${raw.subject}) is unreadable, left out as a gap: ${error.message}`);
        unreadable++;
        continue;
      }
      const needed = keysNeeded(decoded.events, ids);
      for (const e of decoded.events) {
        const owner = e.type === 'RegistrationRequested' ? (ids.get(e.data.userId) ?? e.data.userId) : undefined;
        // A username registered anew after an erasure is never sealed under the erased person's key (handlers.ts).
        if (owner && erasedPending.has(owner)) {
          await targetKeys.destroy(owner, erasedPending.get(owner));
          erasedPending.delete(owner);
        }
      }
      const targetMap = new Map<string, PersonKey>();
      for (const id of needed.seal) targetMap.set(id, await targetKeys.keyFor(id));
      for (const id of needed.erase) {
        const key = targetMap.get(id) ?? (await targetKeys.current(id));
        if (key) targetMap.set(id, key);
      }
      const sourceMap = new Map<string, PersonKey>();
      for (const id of needed.open) {
        const key = await sourceKeys?.current(id);
        if (key) sourceMap.set(id, key);
      }
      const copy = copiedMessage(
        { subject: raw.subject, headers: raw.headers, events: decoded.events, meta: decoded.meta },
        { ...context, targetKeys: targetMap, sourceKeys: sourceMap } satisfies CopyContext,
      );
      kept += copy.kept;
      await writer.write(raw.seq, target.events + copy.subject.slice(source.events.length), copy);
      for (const id of needed.erase) {
        const revision = targetMap.get(id)?.revision;
        if (revision === undefined) continue;
        if (raw.seq <= notified) await targetKeys.destroy(id, revision);
        else erasedPending.set(id, revision);
      }
    }
    await writer.gapUpTo(lastSeq);
    const now = await streamInfo(jsm, source.stream);
    if (now?.state.last_seq !== lastSeq)
      throw new CopyRefused(
        `${source.stream} grew while it was copied (last sequence ${lastSeq}, now ${now?.state.last_seq}): stop every service writing to it, then run copy-log again (it starts over)`,
      );
    if (notifier) await ensureDurable(jsm, target, NOTIFIER_CONSUMER, CLAIM_MS, { fromSeq: notified + 1 });
    // Done: the stream's configuration as the services make it, without the mark of an unfinished copy.
    await jsm.streams.update(target.stream, { ...streamConfig(target, replicas), description: undefined });
  } finally {
    targetKeys.close();
    sourceKeys?.close();
  }
  out(
    `copied ${source.stream} into ${target.stream}: sequences ${firstSeq} to ${lastSeq}, ${writer.copied} messages, ` +
      `${writer.gaps} gaps kept${unreadable ? ` (${unreadable} of them unreadable messages)` : ''}; ${ids.size} user ids ` +
      `re-derived; every personal field sealed under its person's key in ${personKeysBucket(target)}` +
      `${kept ? `, but for ${kept} of people erased before, kept as they were (they read as erased)` : ''}` +
      `${notifier ? `; the notifier goes on after sequence ${notified}` : ''}. Next: cra replay, then cra replay --verify`,
  );
}

/**
 * The new stream's writer: each message at its old sequence, checked, and a gap as a message stored and deleted at once
 * (the one way both nats-server 2.9 and 2.10 leave a sequence unused inside a stream).
 */
class Writer {
  copied = 0;
  gaps = 0;
  private readonly lastBySubject = new Map<string, number>();
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly target: Namespace,
    private last: number,
  ) {}

  async write(seq: number, subject: string, message: { headers: Record<string, string>; body: Uint8Array }) {
    await this.gapUpTo(seq - 1);
    const h = natsHeaders();
    for (const [name, value] of Object.entries(message.headers)) h.set(name, value);
    // A message deleted from the old log may have been the subject's last before this one: then nothing can expect it.
    const expected = message.headers['Nats-Expected-Last-Subject-Sequence'];
    if (expected !== undefined && Number(expected) !== (this.lastBySubject.get(subject) ?? 0))
      h.delete('Nats-Expected-Last-Subject-Sequence');
    const ack = await this.js.publish(subject, message.body, { headers: h });
    if (ack.duplicate)
      throw new Error(
        `sequence ${seq}: its message id ${message.headers['Nats-Msg-Id']} was stored already, at ${ack.seq}`,
      );
    this.stored(seq, ack.seq);
    this.lastBySubject.set(subject, seq);
    this.copied++;
  }

  async gapUpTo(seq: number) {
    while (this.last < seq) {
      const ack = await this.js.publish(`${this.target.events}.gap`, new Uint8Array());
      this.stored(this.last + 1, ack.seq);
      await this.jsm.streams.deleteMessage(this.target.stream, ack.seq, false);
      this.gaps++;
    }
  }

  private stored(expected: number, seq: number) {
    if (seq !== expected)
      throw new Error(
        `stored at sequence ${seq}, not ${expected}: is something else writing to ${this.target.stream}?`,
      );
    this.last = seq;
  }
}

/**
 * The new stream must hold nothing: one an unfinished copy of this source left is deleted (with its key bucket) and
 * copied anew; an empty one is deleted; one with messages, or a bucket with keys, is refused.
 */
async function clearTarget(jsm: JetStreamManager, source: Namespace, target: Namespace, out: (line: string) => void) {
  const bucket = `KV_${personKeysBucket(target)}`;
  const existing = await streamInfo(jsm, target.stream);
  if (existing?.config.description === unfinished(source)) {
    out(`${target.stream} holds an unfinished copy of ${source.stream}: deleting it and its keys, copying anew`);
    await jsm.streams.delete(target.stream);
    if (await streamInfo(jsm, bucket)) await jsm.streams.delete(bucket);
    return;
  }
  if (existing && existing.state.messages > 0)
    throw new CopyRefused(
      `${target.stream} already holds ${existing.state.messages} messages: copy-log writes only into a new stream (set CRA_NAMESPACE to a new namespace)`,
    );
  if ((await streamInfo(jsm, bucket))?.state.messages)
    throw new CopyRefused(`${personKeysBucket(target)} already holds keys: copy-log writes only into a new namespace`);
  if (existing) await jsm.streams.delete(target.stream);
}

/**
 * Old plain-hash user id → the id the current code derives, from every plain username in the old log. Refused: a log
 * that holds a username in both forms (registered again after an upgrade without this copy), which would merge two
 * accounts into one subject.
 */
async function userIdMap(
  messages: AsyncIterable<{ seq: number; subject: string; headers: Record<string, string>; body: Uint8Array }>,
  source: Namespace,
  userIdKey: Buffer,
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  const userSubjects = new Set<string>();
  for await (const raw of messages) {
    userSubjects.add(raw.subject);
    let events;
    try {
      events = decodeEvents(raw.headers, raw.body).events;
    } catch (error) {
      if (error instanceof EventDecodeError) continue;
      throw error;
    }
    for (const { userId, username } of plainUsernames(events)) {
      if (plainUserIdFor(username) !== userId)
        throw new CopyRefused(`sequence ${raw.seq} names ${userId} with a username whose plain id is another`);
      ids.set(userId, userIdFor(username, userIdKey));
    }
  }
  const both = [...ids].filter(([, id]) => userSubjects.has(subjects.user(source, id)));
  if (both.length > 0)
    throw new CopyRefused(
      `${both.length} username(s) were registered in both forms, e.g. ${both[0]![0]} and ${both[0]![1]}: their accounts would merge, so nothing was copied`,
    );
  return ids;
}

async function* emptyLog(): AsyncGenerator<never> {}

async function streamInfo(jsm: JetStreamManager, stream: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(stream);
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return undefined;
    throw error;
  }
}
