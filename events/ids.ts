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
/**
 * A personal field as the log holds it: sealed under its person's key (platform/personalData, docs/design.md §9), or,
 * in events written before sealing existed, plain text of the field's own rule.
 */
export const SealedText = z.string().regex(/^sealed:v1:\d+:[A-Za-z0-9_-]+$/, 'must be a sealed personal field');
export const Personal = <T extends z.ZodType<string>>(plain: T) => z.union([SealedText, plain]);
/** A keyed hash a read model looks a person up by (platform/personalData lookup), in place of what it hashes. */
export const LookupHash = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a lookup hash');
export const IsoTimestamp = z.iso.datetime({ offset: true });
export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 hex digest');
