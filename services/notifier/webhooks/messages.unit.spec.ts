import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { messageBody, signedHeaders } from './messages.ts';

describe('signedHeaders', () => {
  it('signs as the Standard Webhooks library does: its own verify accepts them, and its own sign gives the same', () => {
    // Now: the library's verify refuses a timestamp more than five minutes off.
    const at = new Date();
    const body = messageBody('json', { kind: 'test', alertsUrl: 'https://cra.example/alerts' }, at);
    for (const bytes of [24, 32, 64]) {
      const secret = `whsec_${Buffer.alloc(bytes, bytes + 1).toString('base64')}`;
      const headers = signedHeaders(secret, 'msg_17_c1', at, body);
      expect(headers['webhook-id']).toBe('msg_17_c1');
      expect(headers['webhook-signature']).toBe(new Webhook(secret).sign('msg_17_c1', at, body));
      expect(new Webhook(secret).verify(body, headers)).toMatchObject({ type: 'channel.test' });
      expect(() => new Webhook(secret).verify(body.replace('cra', 'crb'), headers)).toThrow();
    }
  });
});
