import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { fromThisMachine } from './localClient.ts';

const request = (remoteAddress: string | undefined, headers: Record<string, string> = {}) =>
  ({ socket: { remoteAddress }, headers }) as unknown as FastifyRequest;

describe('fromThisMachine', () => {
  it('believes a loopback peer that no proxy speaks for', () => {
    expect(fromThisMachine(request('127.0.0.1'))).toBe(true);
    expect(fromThisMachine(request('::1'))).toBe(true);
    expect(fromThisMachine(request('::ffff:127.0.0.1'))).toBe(true);
  });

  it('refuses a peer elsewhere on the network', () => {
    expect(fromThisMachine(request('192.0.2.2'))).toBe(false);
    expect(fromThisMachine(request('::ffff:10.1.2.3'))).toBe(false);
    expect(fromThisMachine(request(undefined))).toBe(false);
  });

  it.each([
    ['x-forwarded-for', '203.0.113.9'],
    ['x-forwarded-for', '127.0.0.1'],
    ['forwarded', 'for=203.0.113.9'],
    ['x-real-ip', '203.0.113.9'],
    ['x-forwarded-host', 'cra.example.com'],
    ['x-forwarded-proto', 'https'],
  ])('refuses a loopback peer that forwards for someone else (%s: %s)', (name, value) => {
    expect(fromThisMachine(request('127.0.0.1', { [name]: value }))).toBe(false);
  });
});
