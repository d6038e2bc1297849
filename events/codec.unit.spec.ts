import { describe, expect, it } from 'vitest';
import { currentVersion, eventTypes } from './catalog.ts';
import { decodeEvents, encodeEvents, EventDecodeError, EventSchemaError, Header } from './codec.ts';
import { sampleEvents } from './sampleEvents.ts';

const meta = { occurredAt: '2026-11-02T16:05:00.000Z', correlationId: 'c1', causationId: 'k1' };
const bytes = (s: string) => new TextEncoder().encode(s);

describe('event codec', () => {
  it.each(eventTypes)('round-trips %s through headers and body', (type) => {
    const original = sampleEvents[type];
    const { headers, body } = encodeEvents([original], meta);
    expect(headers[Header.type]).toBe(type);
    expect(headers[Header.version]).toBe(String(currentVersion[type]));
    expect(decodeEvents(headers, body)).toEqual({ events: [original], meta });
  });

  it('round-trips several events of one decision in order', () => {
    const events = [sampleEvents.RegistrationExpired, sampleEvents.RegistrationRequested];
    const { headers, body } = encodeEvents(events, meta);
    expect(decodeEvents(headers, body).events).toEqual(events);
  });

  it('reads a PasswordChanged written before keptSessionId (a reset) as it was, still at version 1', () => {
    const { keptSessionId: _kept, ...reset } = sampleEvents.PasswordChanged.data;
    const headers = { [Header.type]: 'PasswordChanged', [Header.version]: '1' };
    expect(currentVersion.PasswordChanged).toBe(1);
    expect(decodeEvents(headers, bytes(JSON.stringify(reset))).events).toEqual([
      { type: 'PasswordChanged', data: reset },
    ]);
  });

  it('refuses to encode a payload that breaks its schema', () => {
    const bad = { type: 'AlertSet', data: { ...sampleEvents.AlertSet.data, threshold: '1e5' } } as const;
    expect(() => encodeEvents([bad], meta)).toThrow(EventSchemaError);
  });

  it('refuses to encode a threshold that is not canonical or is too long', () => {
    for (const threshold of ['001.5', `${'0'.repeat(60_000)}1.11`, `0.${'0'.repeat(40)}1`]) {
      const set = { type: 'AlertSet', data: { ...sampleEvents.AlertSet.data, threshold } } as const;
      const triggered = { type: 'AlertTriggered', data: { ...sampleEvents.AlertTriggered.data, threshold } } as const;
      expect(() => encodeEvents([set], meta)).toThrow(EventSchemaError);
      expect(() => encodeEvents([triggered], meta)).toThrow(EventSchemaError);
    }
  });

  it('never writes a float: decimals are strings in the body', () => {
    const { body } = encodeEvents([sampleEvents.RatesFetched], meta);
    expect(new TextDecoder().decode(body)).toContain('"USD":"1.0825"');
  });

  it.each([
    ['bad JSON', { [Header.type]: 'AlertSet', [Header.version]: '1' }, '{nope', /not JSON/],
    ['an unknown type', { [Header.type]: 'AlertExploded', [Header.version]: '1' }, '{}', /unknown event type/],
    ['a schema break', { [Header.type]: 'AlertSet', [Header.version]: '1' }, '{"alertId":"a1"}', /breaks its schema/],
    ['a future version', { [Header.type]: 'AlertSet', [Header.version]: '9' }, '{}', /newer than this code/],
    ['no type header', { [Header.version]: '1' }, '{}', /missing/],
  ])('refuses to read %s', (_name, headers, body, reason) => {
    expect(() => decodeEvents(headers, bytes(body))).toThrow(EventDecodeError);
    expect(() => decodeEvents(headers, bytes(body))).toThrow(reason);
  });

  it.each(['AlertSet', 'AlertTriggered'] as const)(
    'reads a %s v1 threshold stored with leading zeros as its canonical form',
    (type) => {
      const v1 = (threshold: string) =>
        decodeEvents(
          { [Header.type]: type, [Header.version]: '1' },
          bytes(JSON.stringify({ ...sampleEvents[type].data, threshold })),
        );
      expect(v1(`${'0'.repeat(60_000)}1.11`).events).toEqual([
        { type, data: { ...sampleEvents[type].data, threshold: '1.11' } },
      ]);
      expect(v1('001.50').events[0]!.data).toMatchObject({ threshold: '1.50' });
      expect(v1('0.0825').events[0]!.data).toMatchObject({ threshold: '0.0825' });
      // Still too long once canonical (a tiny value written with thousands of zeros): parked like any schema break.
      expect(() => v1(`0.${'0'.repeat(60_000)}1`)).toThrow(/breaks its schema: threshold: Use at most 40 characters/);
    },
  );

  it('reads an older version through an upcaster chain as the current shape', () => {
    const history = {
      currentVersion: { ...currentVersion, AlertSet: 3 },
      upcasters: {
        AlertSet: {
          1: (d: unknown) => ({ ...(d as object), quote: 'USD' }),
          2: (d: unknown) => {
            const { limit, ...rest } = d as { limit: string };
            return { ...rest, threshold: limit };
          },
        },
      },
    };
    const v1 = { alertId: 'a1', userId: 'u1', base: 'EUR', limit: '1.08' };
    const decoded = decodeEvents(
      { [Header.type]: 'AlertSet', [Header.version]: '1' },
      bytes(JSON.stringify(v1)),
      history,
    );
    expect(decoded.events[0]).toEqual({
      type: 'AlertSet',
      data: { alertId: 'a1', userId: 'u1', base: 'EUR', quote: 'USD', threshold: '1.08' },
    });
    expect(() =>
      decodeEvents({ [Header.type]: 'AlertSet', [Header.version]: '1' }, bytes(JSON.stringify(v1)), {
        ...history,
        upcasters: {},
      }),
    ).toThrow(/no upcaster/);
  });
});
