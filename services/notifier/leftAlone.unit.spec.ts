import { describe, expect, it } from 'vitest';
import { encodeEvents, Header } from '../../events/index.ts';
import { sampleEvents } from '../../events/sampleEvents.ts';
import { createLogger } from '../../platform/logger.ts';
import { handleMessage, type NotifierDeps } from './main.ts';

// Messages the notifier leaves alone are acknowledged from their headers: no dependency is touched (these deps have
// none but the sender, the logger and the hooks), and the body is never read.
const parked: string[] = [];
const deps = {
  mailFrom: 'CRA <alerts@cra.test>',
  logger: createLogger({ level: 'silent' }),
  hooks: { onParked: (_seq: number, reason: string) => parked.push(reason) },
} as unknown as NotifierDeps;
const meta = { occurredAt: '2026-11-02T16:00:00.000Z', correlationId: 'c', causationId: 'c' };
const raw = (headers: Record<string, string>, body: Uint8Array) => ({
  seq: 7,
  subject: 's',
  headers,
  body,
  pending: 0,
});

describe('what the notifier leaves alone', () => {
  it('acknowledges a run’s records (triggers and claim, an email sent, a webhook attempt) without reading them', async () => {
    for (const events of [
      [sampleEvents.AlertTriggered, sampleEvents.EmailClaimed],
      [sampleEvents.EmailSent],
      [sampleEvents.WebhookAttempted],
    ]) {
      const { headers } = encodeEvents(events, meta);
      // A body that could not be read at all: it is never looked at.
      expect(await handleMessage(deps, raw(headers, new TextEncoder().encode('{')))).toBe('ack');
    }
    expect(parked).toEqual([]);
  });

  it('still reads a message of a type it does not know, and parks it', async () => {
    const { headers, body } = encodeEvents([sampleEvents.EmailSent], meta);
    expect(await handleMessage(deps, raw({ ...headers, [Header.type]: 'EmailSentV9' }, body))).toBe('ack');
    expect(parked).toHaveLength(1);
  });
});
