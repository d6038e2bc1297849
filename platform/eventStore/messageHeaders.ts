import type { JsMsg } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';

/** A message's headers as a record: the first value of each key, as nats.js lists them. */
export function headersToRecord(h: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  for (const [k, v] of h) out[k] = v[0] ?? '';
  return out;
}

/**
 * The header block of a received message as it came off the wire, where the client keeps it (nats.js 3 holds the
 * payload it received as `_rdata` and the header block's length as `_msg.hdr`); undefined when it does not.
 */
export function headerBlock(m: JsMsg): Uint8Array | undefined {
  const received = (m as { msg?: { _rdata?: unknown; _msg?: { hdr?: unknown } } }).msg;
  const data = received?._rdata;
  const length = received?._msg?.hdr;
  if (!(data instanceof Uint8Array) || typeof length !== 'number' || length <= 0 || length > data.length)
    return undefined;
  return data.subarray(0, length);
}

/**
 * A header block ("NATS/1.0[ status]\r\nKey: value\r\n…\r\n\r\n") read the way nats.js reads it (keys as sent,
 * values trimmed, lines without a colon skipped), keeping each key's first value: what headersToRecord makes of
 * `m.headers`, without the MsgHdrs object, its key checks and a Map of arrays per message.
 */
export function parseHeaderBlock(block: Uint8Array): Record<string, string> {
  const text = Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('utf8');
  const out: Record<string, string> = {};
  let line = text.indexOf('\r\n');
  if (line < 0) return out;
  line += 2;
  while (line < text.length) {
    let end = text.indexOf('\r\n', line);
    if (end < 0) end = text.length;
    const colon = text.indexOf(':', line);
    if (colon >= line && colon < end) {
      const key = knownKey(text, line, colon) ?? text.slice(line, colon);
      if (!Object.hasOwn(out, key)) {
        // Values come as ": value": skip trim()'s copy when both ends are visible ASCII (nothing else to trim).
        const plain =
          text.charCodeAt(colon + 1) === 32 &&
          end - colon > 2 &&
          visibleAscii(text.charCodeAt(colon + 2)) &&
          visibleAscii(text.charCodeAt(end - 1));
        out[key] = plain ? text.slice(colon + 2, end) : text.slice(colon + 1, end).trim();
      }
    }
    line = end + 2;
  }
  return out;
}

/** Header names every stored event carries: matched in place, so reading one makes no new string to intern. */
const KNOWN_KEYS = [
  'Cra-Event-Type',
  'Cra-Schema-Version',
  'Cra-Occurred-At',
  'Cra-Correlation-Id',
  'Cra-Causation-Id',
  'Nats-Msg-Id',
];

const visibleAscii = (code: number) => code > 32 && code < 127;

function knownKey(text: string, from: number, to: number): string | undefined {
  for (const key of KNOWN_KEYS) if (key.length === to - from && text.startsWith(key, from)) return key;
  return undefined;
}

/** A received message's headers as a record, read from the raw block when the client still holds it. */
export function messageHeaders(m: JsMsg): Record<string, string> {
  const block = headerBlock(m);
  return block ? parseHeaderBlock(block) : headersToRecord(m.headers);
}
