import type { DirectStreamAPI, JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import { headersToRecord } from './messageHeaders.ts';

/** One stored message of a subject, as a direct get or the stream leader returns it. */
export type SubjectMessage = { seq: number; subject: string; headers: Record<string, string>; body: Uint8Array };

/**
 * Every message of one subject up to `lastSeq` (the subject's last sequence, as its stream leader answered it), oldest
 * first, without creating a consumer: one JetStream direct get per message (`next_by_subj` from just past the one
 * before), which any replica answers from its own store. A consumer per load needs the meta leader to place it (up to
 * nats-server 2.11.7 possibly on an offline node, where its creation never answers) and outlives the load.
 *
 * A replica that lags the leader may not hold the tail yet, or may not answer (frozen): that hop, and the rest of this
 * read, then go to the stream leader (`STREAM.MSG.GET`), so the read always ends exactly at `lastSeq`.
 */
export async function readSubject(
  stream: string,
  subject: string,
  lastSeq: number,
  api: { direct: DirectStreamAPI; leader: JetStreamManager },
): Promise<SubjectMessage[]> {
  const found: SubjectMessage[] = [];
  let useLeader = false;
  let seq = 1;
  while (seq <= lastSeq) {
    const query = { seq, next_by_subj: subject };
    let m: StoredMsg | null = null;
    if (!useLeader) m = await api.direct.getMessage(stream, query).catch(() => null);
    if (!m || m.seq > lastSeq) {
      useLeader = true;
      // The leader's message-get takes next_by_subj as the direct get does; nats.js types it for seq and last_by_subj only.
      m = await api.leader.streams.getMessage(stream, query as unknown as { seq: number });
      if (!m || m.seq > lastSeq)
        throw new Error(`${subject} has no message from ${seq} to its last sequence ${lastSeq}`);
    }
    found.push({ seq: m.seq, subject: m.subject, headers: headersToRecord(m.header), body: m.data });
    seq = m.seq + 1;
  }
  return found;
}
