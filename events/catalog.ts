import type { z } from 'zod';
import { alertEvents } from './alert.ts';
import { channelEvents, deliveryEvents } from './channel.ts';
import { notificationEvents } from './notification.ts';
import { ratesEvents } from './rates.ts';
import { userEvents } from './user.ts';

/** Every event the system records, by type name, with the zod schema of its current version. */
export const eventSchemas = {
  ...userEvents,
  ...alertEvents,
  ...ratesEvents,
  ...notificationEvents,
  ...channelEvents,
  ...deliveryEvents,
} as const;

export type EventType = keyof typeof eventSchemas;
export type EventData<T extends EventType> = z.infer<(typeof eventSchemas)[T]>;

/** A domain event: its type and its payload, in the current schema version. */
export type DomainEvent = { [T in EventType]: { type: T; data: EventData<T> } }[EventType];
export type EventOf<T extends EventType> = Extract<DomainEvent, { type: T }>;

/** The events of one aggregate's catalog (`alertEvents`, `userEvents`…): what its decider evolves over. */
export type EventsOf<Catalog> = Extract<DomainEvent, { type: keyof Catalog }>;
export type UserEvent = EventsOf<typeof userEvents>;
export type AlertEvent = EventsOf<typeof alertEvents>;
export type RatesEvent = EventsOf<typeof ratesEvents>;
/** A digest subject's and a mail subject's events. */
export type NotificationEvent = EventsOf<typeof notificationEvents>;
export type ChannelEvent = EventsOf<typeof channelEvents>;
/** A delivery subject's events: one run's (or test's) message to one channel. */
export type DeliveryEvent = EventsOf<typeof deliveryEvents>;

/** A type guard for one aggregate's events, so a reader of a subject sees only its owner's events. */
export function belongsTo<Catalog extends object>(
  catalog: Catalog,
): (event: DomainEvent) => event is EventsOf<Catalog> {
  return (event): event is EventsOf<Catalog> => Object.hasOwn(catalog, event.type);
}
export const isUserEvent = belongsTo(userEvents);
export const isAlertEvent = belongsTo(alertEvents);
export const isRatesEvent = belongsTo(ratesEvents);
export const isNotificationEvent = belongsTo(notificationEvents);
export const isChannelEvent = belongsTo(channelEvents);
export const isDeliveryEvent = belongsTo(deliveryEvents);

export const eventTypes = Object.keys(eventSchemas) as EventType[];

/**
 * The current schema version of each event type; bump it and add an upcaster when a payload changes shape or a rule
 * tightens. AlertSet and AlertTriggered v2: the threshold is canonical and at most 40 characters (events/decimal.ts).
 * An added optional field is no new version (PasswordChanged's keptSessionId): every older payload is valid as it is,
 * and older code reads a newer payload as before, since the schemas drop the keys they do not know.
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

/** What a personal field holds: a value is sealed as its kind, so it may be copied from one field to another. */
export type PersonalKind = 'username' | 'email' | 'webhook-url' | 'webhook-secret';

/**
 * The personal fields of each event type and the kind each holds (docs/design.md §9): sealed under the person's key
 * (`data.userId`) as that kind.
 */
export const personalFields: {
  readonly [T in EventType]?: { readonly [F in keyof EventData<T> & string]?: PersonalKind };
} = {
  RegistrationRequested: { username: 'username', email: 'email' },
  UserRegistered: { username: 'username', email: 'email' },
  RegistrationExpired: { username: 'username' },
  EmailChangeRequested: { email: 'email' },
  EmailChanged: { email: 'email', previousEmail: 'email' },
  EmailUndeliverable: { email: 'email' },
  ChannelAdded: { url: 'webhook-url', secret: 'webhook-secret' },
};
