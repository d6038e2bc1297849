import type { z } from 'zod';
import { alertEvents } from './alert.ts';
import { notificationEvents } from './notification.ts';
import { ratesEvents } from './rates.ts';
import { userEvents } from './user.ts';

/** Every event the system records, by type name, with the zod schema of its current version. */
export const eventSchemas = { ...userEvents, ...alertEvents, ...ratesEvents, ...notificationEvents } as const;

export type EventType = keyof typeof eventSchemas;
export type EventData<T extends EventType> = z.infer<(typeof eventSchemas)[T]>;

/** A domain event: its type and its payload, in the current schema version. */
export type DomainEvent = { [T in EventType]: { type: T; data: EventData<T> } }[EventType];
export type EventOf<T extends EventType> = Extract<DomainEvent, { type: T }>;

export const eventTypes = Object.keys(eventSchemas) as EventType[];

/**
 * The current schema version of each event type; bump it and add an upcaster when a payload changes shape or a rule
 * tightens. AlertSet and AlertTriggered v2: the threshold is canonical and at most 40 characters (events/decimal.ts).
 */
export const currentVersion: Record<EventType, number> = {
  ...(Object.fromEntries(eventTypes.map((t) => [t, 1])) as Record<EventType, number>),
  AlertSet: 2,
  AlertTriggered: 2,
};

export function isEventType(value: string): value is EventType {
  return Object.hasOwn(eventSchemas, value);
}

export function event<T extends EventType>(type: T, data: EventData<T>): EventOf<T> {
  return { type, data } as EventOf<T>;
}
