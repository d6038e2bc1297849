import type { LookupAddress, LookupOptions } from 'node:dns';
import { Agent, request } from 'undici';
import {
  checkUrl,
  publicAddresses,
  RefusedDestination,
  systemResolve,
  type DestinationPolicy,
  type Resolve,
} from './destination.ts';

/** Bounds of one webhook request: a slow or hostile endpoint holds a sender for at most `totalMs`. */
export type PostLimits = { connectMs: number; totalMs: number };
export const defaultPostLimits: PostLimits = { connectMs: 5_000, totalMs: 10_000 };

/** What a webhook request came to: a status and the Retry-After it gave, or no answer (and why, in our words). */
export type PostResult =
  | { answered: true; status: number; retryAfter: string | undefined }
  | { answered: false; reason: 'timed out' | 'connection failed' | 'refused destination'; detail: string };

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A dispatcher whose connections go only to addresses that were checked: its lookup resolves the host and refuses it
 * unless every address is public, and the socket connects to the address that lookup returned. So a name that
 * resolves to a public address for a check and to 127.0.0.1 a moment later (DNS rebinding) gets no second lookup.
 */
export function guardedAgent(
  policy: DestinationPolicy,
  limits: PostLimits = defaultPostLimits,
  resolve: Resolve = systemResolve,
): Agent {
  const lookup = (host: string, options: LookupOptions, callback: LookupCallback) => {
    publicAddresses(host, policy, resolve).then(
      (found) => {
        if (options.all) callback(null, found);
        else callback(null, found[0]!.address, found[0]!.family);
      },
      (error: unknown) => callback(Object.assign(error as Error, { code: 'EREFUSEDDESTINATION' }), ''),
    );
  };
  return new Agent({
    connect: { timeout: limits.connectMs, lookup },
    headersTimeout: limits.totalMs,
    bodyTimeout: limits.totalMs,
    // One connection per origin at a time is plenty for one POST per channel and run; the caller bounds concurrency.
    connections: 4,
  });
}

/** Most bytes of an answer read before the connection is let go: nothing of it is kept or shown. */
const ANSWER_CAP = 4 * 1024;

/**
 * POST a body to a webhook URL through a guarded agent: the URL's scheme and literal address are checked first, no
 * redirect is followed (a 3xx is an answer like any other), the whole request is bounded by `totalMs`, and at most
 * ANSWER_CAP bytes of the answer are read, to be dropped.
 */
export async function guardedPost(
  agent: Agent,
  policy: DestinationPolicy,
  target: string,
  body: string,
  headers: Record<string, string>,
  limits: PostLimits = defaultPostLimits,
): Promise<PostResult> {
  try {
    checkUrl(new URL(target), policy);
  } catch (error) {
    if (error instanceof RefusedDestination)
      return { answered: false, reason: 'refused destination', detail: error.message };
    throw error;
  }
  try {
    const answer = await request(target, {
      method: 'POST',
      dispatcher: agent,
      body,
      headers: { 'content-type': 'application/json', 'user-agent': 'CRA-Webhooks/1', ...headers },
      signal: AbortSignal.timeout(limits.totalMs),
    });
    const retryAfter = answer.headers['retry-after'];
    await answer.body.dump({ limit: ANSWER_CAP }).catch(() => {});
    return {
      answered: true,
      status: answer.statusCode,
      retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
    };
  } catch (error) {
    const refused = findCause(error, (e) => e instanceof RefusedDestination);
    if (refused) return { answered: false, reason: 'refused destination', detail: refused.message };
    const timedOut = findCause(
      error,
      (e) =>
        e.name === 'TimeoutError' || e.name === 'AbortError' || /Timeout/.test((e as { code?: string }).code ?? ''),
    );
    if (timedOut) return { answered: false, reason: 'timed out', detail: 'timed out' };
    return { answered: false, reason: 'connection failed', detail: 'connection failed' };
  }
}

function findCause(error: unknown, test: (e: Error) => boolean): Error | undefined {
  for (let e = error; e instanceof Error; e = e.cause) if (test(e)) return e;
  return undefined;
}
