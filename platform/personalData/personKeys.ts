import { randomBytes } from 'node:crypto';
import type { JetStreamManager } from '@nats-io/jetstream';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm, KvWatchInclude, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Namespace } from '../../events/index.ts';
import { seal, unseal } from './sealed.ts';

/** A person's key and its revision (the key-value entry's), which every value sealed with it names. */
export type PersonKey = { key: Buffer; revision: number };

/** The key-value bucket of a namespace's person keys (its stream is `KV_<bucket>`). */
export const personKeysBucket = (ns: Namespace) => `${ns.stream}_PERSON_KEYS`;

const CACHED_KEYS = 10_000;

/**
 * Each person's data key, kept outside the event stream in a JetStream key-value bucket, wrapped (sealed.ts) by the key
 * derived from CRA_MASTER_KEY, so the bucket alone opens nothing. Destroying a key overwrites its stored message
 * (JetStream's secure delete writes random bytes over it in the store's files) and then purges the entry, so nothing
 * of the key is left on disk, and every value sealed with it is erased for good.
 *
 * Keys are kept in memory once read; a destroyed key leaves every process's memory as the bucket tells it (a watch on
 * deletes), and a seal always asks the bucket, so nothing new is sealed with a key another process just destroyed.
 */
export class PersonKeys {
  private readonly cache = new Map<string, PersonKey>();
  /** Reads under way, so the fields of one person opened at once ask the bucket once. */
  private readonly reading = new Map<string, Promise<PersonKey | undefined>>();

  private constructor(
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
    private readonly wrapKey: Buffer,
    private readonly stopWatch: () => void,
  ) {}

  static async open(
    nc: NatsConnection,
    ns: Namespace,
    wrapKey: Buffer,
    options: { replicas?: number } = {},
  ): Promise<PersonKeys> {
    const bucket = personKeysBucket(ns);
    const kv = await new Kvm(nc).create(bucket, { history: 1, replicas: options.replicas ?? 1 });
    const jsm = await jetstreamManager(nc);
    const watch = await kv.watch({ include: KvWatchInclude.UpdatesOnly });
    const keys = new PersonKeys(kv, jsm, `KV_${bucket}`, wrapKey, () => watch.stop());
    void (async () => {
      for await (const entry of watch) if (entry.operation !== 'PUT') keys.cache.delete(entry.key);
    })();
    return keys;
  }

  /** The person's current key, created if they have none (their first personal field, or after an erasure). */
  async keyFor(owner: string): Promise<PersonKey> {
    const found = await this.read(owner);
    if (found) return found;
    const key = randomBytes(32);
    try {
      const revision = await this.kv.create(owner, this.wrap(owner, key));
      return this.remember(owner, { key, revision });
    } catch (error) {
      // Another process created it first: theirs is the key.
      const theirs = await this.read(owner);
      if (theirs) return theirs;
      throw error;
    }
  }

  /** The person's current key, or undefined when they have none (never had one, or it was destroyed). */
  async current(owner: string): Promise<PersonKey | undefined> {
    const cached = this.cache.get(owner);
    if (cached) return cached;
    let pending = this.reading.get(owner);
    if (!pending) {
      pending = this.read(owner).finally(() => this.reading.delete(owner));
      this.reading.set(owner, pending);
    }
    return pending;
  }

  /**
   * Destroy the person's key: overwrite its stored bytes, purge the entry. Safe to repeat. `revision`: only that key,
   * not a newer one made since (the username registered anew by someone else).
   */
  async destroy(owner: string, revision?: number): Promise<void> {
    const entry = await this.kv.get(owner);
    if (revision !== undefined && entry?.operation === 'PUT' && entry.revision !== revision) return;
    this.cache.delete(owner);
    if (entry && entry.operation === 'PUT') await this.jsm.streams.deleteMessage(this.stream, entry.revision, true);
    await this.kv.purge(owner);
    this.cache.delete(owner);
  }

  close(): void {
    this.stopWatch();
  }

  /** Delete the whole bucket (a test's or a benchmark's namespace, when it is done). */
  async destroyBucket(): Promise<void> {
    await this.kv.destroy();
  }

  private async read(owner: string): Promise<PersonKey | undefined> {
    const entry = await this.kv.get(owner);
    if (!entry || entry.operation !== 'PUT') return undefined;
    const key = unseal(this.wrapKey, owner, 'person-key', entry.string());
    if (key === undefined) throw new Error(`the key of ${owner} does not open with CRA_MASTER_KEY`);
    return this.remember(owner, { key: Buffer.from(key, 'base64'), revision: entry.revision });
  }

  private wrap(owner: string, key: Buffer): string {
    return seal(this.wrapKey, 1, owner, 'person-key', key.toString('base64'));
  }

  private remember(owner: string, key: PersonKey): PersonKey {
    if (this.cache.size >= CACHED_KEYS) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(owner, key);
    return key;
  }
}
