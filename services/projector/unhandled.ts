import type { DomainEvent } from '../../events/index.ts';

/** The default of an exhaustive switch over event types: reached by no event this code knows. */
export function unhandled(event: never): never {
  throw new Error(`unhandled event type ${(event as DomainEvent).type}`);
}
