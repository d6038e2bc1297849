import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
} from '@nats-io/jetstream';
import type { Namespace } from '../../events/index.ts';

const isApiError = (error: unknown, code: JetStreamApiCodes) =>
  error instanceof JetStreamApiError && error.code === code;

/** The stream's configuration: no age or size limit, the log is the truth. */
export function streamConfig(ns: Namespace, replicas: number) {
  return {
    name: ns.stream,
    subjects: [`${ns.events}.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    num_replicas: replicas,
    max_age: 0,
    max_bytes: -1,
    max_msgs: -1,
    duplicate_window: 2 * 60 * 1_000_000_000,
    allow_direct: true,
  };
}

/** Create the stream, or bring an existing one to this configuration, idempotently. */
export async function ensureStream(jsm: JetStreamManager, ns: Namespace, replicas: number): Promise<void> {
  const config = streamConfig(ns, replicas);
  try {
    await jsm.streams.info(ns.stream);
    await jsm.streams.update(ns.stream, config);
  } catch (error) {
    if (!isApiError(error, JetStreamApiCodes.StreamNotFound)) throw error;
    await jsm.streams.add(config);
  }
}

/**
 * Create a service's durable consumer over the whole log, or bring its ack wait and ack limit to these. `fromSeq`: a new
 * consumer starts there rather than at the log's start (`cra copy-log` carries the notifier's place over to a new stream).
 * `maxAckPending`: how many messages it hands out before any is acknowledged.
 */
export async function ensureDurable(
  jsm: JetStreamManager,
  ns: Namespace,
  name: string,
  ackWaitMs: number,
  { fromSeq, maxAckPending = 64 }: { fromSeq?: number; maxAckPending?: number } = {},
): Promise<void> {
  const config = {
    durable_name: name,
    ack_policy: AckPolicy.Explicit,
    ...(fromSeq === undefined
      ? { deliver_policy: DeliverPolicy.All }
      : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: fromSeq }),
    filter_subject: `${ns.events}.>`,
    ack_wait: ackWaitMs * 1_000_000,
    max_deliver: -1,
    max_ack_pending: maxAckPending,
  };
  try {
    await jsm.consumers.info(ns.stream, name);
    await jsm.consumers.update(ns.stream, name, { ack_wait: config.ack_wait, max_ack_pending: config.max_ack_pending });
  } catch (error) {
    if (!isApiError(error, JetStreamApiCodes.ConsumerNotFound)) throw error;
    await jsm.consumers.add(ns.stream, config);
  }
}

/** Delete the stream (tests and benchmarks tidy up their own namespace). */
export async function destroyStream(jsm: JetStreamManager, ns: Namespace): Promise<void> {
  await jsm.streams.delete(ns.stream).catch(() => {});
}
