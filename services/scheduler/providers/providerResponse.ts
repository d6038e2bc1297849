import { LosslessNumber, parse } from 'lossless-json';
import { z } from 'zod';
import type { FailureKind } from './ratesProvider.ts';

// Pure: reads one provider answer (status + body text) into validated data, or says why it cannot.

/** The answer cannot give rates; the adapter adds the provider and URL to make it a RatesProviderError. */
export class UnusableResponse extends Error {
  override readonly name = 'UnusableResponse';
  constructor(
    readonly kind: Extract<FailureKind, 'provider-error' | 'http-status' | 'bad-response'>,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** JSON whose numbers stay LosslessNumber (their original digits), never binary floats. */
export function parseLosslessJson(text: string): unknown {
  return parse(text, null, (digits) => new LosslessNumber(digits));
}

/** A JSON number, still as its original digits. */
export const jsonNumber = z.instanceof(LosslessNumber, { message: 'must be a number' });

/** A Unix time in whole seconds, from a JSON number. */
export const unixSeconds = jsonNumber
  .refine((n) => /^\d{1,11}$/.test(n.value), 'must be a whole number of seconds since 1970')
  .transform((n) => Number(n.value));

/** A currency → number map; each entry is checked on its own later, so one bad entry drops only itself. */
export const rateEntries = z
  .record(z.string(), z.unknown())
  .refine((r) => Object.keys(r).length > 0, 'must list at least one rate');

export const currencyCode = z.string().regex(/^[A-Z]{3}$/, 'must be a three-letter currency code');

type BodyReading<T> = {
  /** The provider's own error message when the body is one of its error bodies, else undefined. */
  errorOf: (json: unknown) => string | undefined;
  success: z.ZodType<T>;
};

/**
 * Provider error body first (whatever the status: some send it with 200), then the HTTP status, then the
 * documented success shape.
 */
export function readProviderBody<T>(status: number, text: string, reading: BodyReading<T>): T {
  let json: unknown;
  try {
    json = parseLosslessJson(text);
  } catch {
    if (!isOk(status)) throw new UnusableResponse('http-status', `HTTP ${status}: ${snippet(text)}`);
    throw new UnusableResponse('bad-response', `the answer is not JSON: ${snippet(text)}`);
  }
  const providerError = reading.errorOf(json);
  if (providerError !== undefined)
    throw new UnusableResponse('provider-error', `the provider refused: ${providerError}`);
  if (!isOk(status)) throw new UnusableResponse('http-status', `HTTP ${status}: ${snippet(text)}`);
  const parsed = reading.success.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'} ${i.message}`).join('; ');
    throw new UnusableResponse('bad-response', `the answer is not in the documented format: ${issues}`);
  }
  return parsed.data;
}

function isOk(status: number): boolean {
  return status >= 200 && status < 300;
}

/** The start of a body for an error line: enough to recognise an HTML page or a proxy's message. */
export function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat === '') return '(empty body)';
  return flat.length > 120 ? `${flat.slice(0, 120)}…` : flat;
}
