import type { FastifyRequest } from 'fastify';
import { isLoopbackAddress } from '../../platform/listenAddress.ts';

/** Headers a proxy adds when it passes on someone else's request. */
const FORWARDED_BY_A_PROXY = ['forwarded', 'x-forwarded-for', 'x-real-ip', 'x-forwarded-host', 'x-forwarded-proto'];

/**
 * A request from a person on this machine: the TCP peer is loopback (the socket's address, never `request.ip`,
 * which TRUST_PROXY may take from X-Forwarded-For) and no proxy says it forwarded the request for someone else.
 */
export function fromThisMachine(request: Pick<FastifyRequest, 'socket' | 'headers'>): boolean {
  return (
    isLoopbackAddress(request.socket.remoteAddress) &&
    FORWARDED_BY_A_PROXY.every((name) => request.headers[name] === undefined)
  );
}
