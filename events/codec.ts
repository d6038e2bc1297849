import { z } from 'zod';
import { currentVersion, eventSchemas, isEventType, type DomainEvent, type EventType } from './catalog.ts';
import { upcasters as defaultUpcasters, type Upcasters } from './upcasters.ts';

/** NATS header names carrying the envelope; the body carries only payloads. */
export const Header = {
  type: 'Cra-Event-Type',
  version: 'Cra-Schema-Version',
  occurredAt: 'Cra-Occurred-At',
  correlationId: 'Cra-Correlation-Id',
  causationId: 'Cra-Causation-Id',
} as const;

export type EnvelopeMeta = {
  occurredAt: string;
  correlationId: string;
  causationId: string;
};

export type EncodedMessage = { headers: Record<string, string>; body: Uint8Array };

/** Why a stored message could not be read as events; consumers park such messages with this reason. */
export class EventDecodeError extends Error {
  override readonly name = 'EventDecodeError';
}

/** An event refused before it was written: its payload breaks its schema. */
export class EventSchemaError extends Error {
  override readonly name = 'EventSchemaError';
}

function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ');
}

/**
 * One message per aggregate append: one event is a JSON object body, several are a JSON array,
 * with the types and versions listed in the same order in the headers.
 */
export function encodeEvents(events: readonly DomainEvent[], meta: EnvelopeMeta): EncodedMessage {
  if (events.length === 0) throw new EventSchemaError('nothing to encode: no events');
  const payloads = events.map((e) => {
    const parsed = eventSchemas[e.type].safeParse(e.data);
    if (!parsed.success) throw new EventSchemaError(`${e.type} refused: ${describe(parsed.error)}`);
    return parsed.data;
  });
  const headers = {
    [Header.type]: events.map((e) => e.type).join(','),
    [Header.version]: events.map((e) => currentVersion[e.type]).join(','),
    [Header.occurredAt]: meta.occurredAt,
    [Header.correlationId]: meta.correlationId,
    [Header.causationId]: meta.causationId,
  };
  const body = JSON.stringify(payloads.length === 1 ? payloads[0] : payloads);
  return { headers, body: new TextEncoder().encode(body) };
}

export type DecodedMessage = { events: DomainEvent[]; meta: EnvelopeMeta };

/** Bodies must be UTF-8: a message that is not is parked, not read with replacement characters. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** What a reader knows of schema history; tests pass their own to exercise upcasting. */
export type SchemaHistory = { upcasters: Upcasters; currentVersion: Record<EventType, number> };
const defaultHistory: SchemaHistory = { upcasters: defaultUpcasters, currentVersion };

export function decodeEvents(
  headers: Record<string, string | undefined>,
  body: Uint8Array,
  history: SchemaHistory = defaultHistory,
): DecodedMessage {
  const typeHeader = headers[Header.type];
  const versionHeader = headers[Header.version];
  if (!typeHeader) throw new EventDecodeError(`missing ${Header.type} header`);
  if (!versionHeader) throw new EventDecodeError(`missing ${Header.version} header`);
  const types = typeHeader.split(',');
  const versions = versionHeader.split(',').map(Number);
  if (versions.length !== types.length || versions.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new EventDecodeError(`bad ${Header.version} header "${versionHeader}" for types "${typeHeader}"`);
  }
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(body));
  } catch (error) {
    throw new EventDecodeError(`body is not JSON: ${(error as Error).message}`);
  }
  const payloads = types.length === 1 ? [json] : json;
  if (!Array.isArray(payloads) || payloads.length !== types.length) {
    throw new EventDecodeError(`body does not hold ${types.length} payloads`);
  }
  const events = types.map((type, i) => decodeOne(type, versions[i]!, payloads[i], history));
  return {
    events,
    meta: {
      occurredAt: headers[Header.occurredAt] ?? '',
      correlationId: headers[Header.correlationId] ?? '',
      causationId: headers[Header.causationId] ?? '',
    },
  };
}

function decodeOne(
  type: string,
  version: number,
  payload: unknown,
  { upcasters, currentVersion }: SchemaHistory,
): DomainEvent {
  if (!isEventType(type)) throw new EventDecodeError(`unknown event type "${type}"`);
  const current = currentVersion[type];
  if (version > current) throw new EventDecodeError(`${type} v${version} is newer than this code reads (v${current})`);
  let data = payload;
  for (let v = version; v < current; v++) {
    const up = upcasters[type]?.[v];
    if (!up) throw new EventDecodeError(`no upcaster for ${type} v${v} → v${v + 1}`);
    data = up(data);
  }
  const parsed = eventSchemas[type].safeParse(data);
  if (!parsed.success) throw new EventDecodeError(`${type} v${version} breaks its schema: ${describe(parsed.error)}`);
  return { type, data: parsed.data } as DomainEvent;
}
