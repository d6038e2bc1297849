import type { EventType } from './catalog.ts';

/**
 * Upcasters read an older schema version of an event as the next one: upcasters[type][v] turns a
 * version-v payload into a version-(v+1) payload. The codec applies them in a chain up to the current
 * version, so consumers only ever see the current shape. Add one whenever `currentVersion` is bumped.
 */
export type Upcaster = (data: unknown) => unknown;
export type Upcasters = Partial<Record<EventType, Record<number, Upcaster>>>;

export const upcasters: Upcasters = {};
