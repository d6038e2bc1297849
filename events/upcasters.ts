import type { EventType } from './catalog.ts';
import { canonicalDecimal } from './decimal.ts';

/**
 * Upcasters read an older schema version of an event as the next one: upcasters[type][v] turns a
 * version-v payload into a version-(v+1) payload. The codec applies them in a chain up to the current
 * version, so consumers only ever see the current shape. Add one whenever `currentVersion` is bumped.
 */
export type Upcaster = (data: unknown) => unknown;
export type Upcasters = Partial<Record<EventType, Record<number, Upcaster>>>;

/**
 * v1 stored a threshold as typed, leading zeros and all ("0001.5"): read it as its canonical form, the same value.
 * A v1 threshold still longer than v2 allows after that (only tiny values written with many zeros) breaks the
 * schema and is parked with the reason, as any schema break is.
 */
export const canonicalThresholdV1: Upcaster = (data) => {
  if (typeof data !== 'object' || data === null || !('threshold' in data) || typeof data.threshold !== 'string')
    return data;
  return { ...data, threshold: canonicalDecimal(data.threshold) };
};

export const upcasters: Upcasters = {
  AlertSet: { 1: canonicalThresholdV1 },
  AlertTriggered: { 1: canonicalThresholdV1 },
};
