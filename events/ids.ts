import { z } from 'zod';

// Ids become NATS subject tokens, so they may hold no dots, spaces or wildcards.
export const AggregateId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a subject-safe id');
export const Username = z
  .string()
  .trim()
  .toLowerCase()
  .min(3, 'Use at least 3 characters')
  .max(32, 'Use at most 32 characters')
  .regex(/^[a-z0-9._-]+$/, 'Use only letters, digits, dot, underscore and hyphen');
export const Email = z
  .string()
  .trim()
  .max(254, 'That email address is too long')
  .pipe(z.email('Enter a valid email address'));
export const IsoTimestamp = z.iso.datetime({ offset: true });
export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 hex digest');
