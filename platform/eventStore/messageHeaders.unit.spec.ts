import { describe, expect, it } from 'vitest';
import { parseHeaderBlock } from './messageHeaders.ts';

const block = (text: string) => new TextEncoder().encode(text);

// messageHeaders.int.spec.ts checks the same reading against nats.js itself, on messages that went through JetStream.
describe('reading a header block', () => {
  it('keeps keys as sent, trims values and keeps the first value of a repeated key', () => {
    expect(
      parseHeaderBlock(
        block('NATS/1.0\r\nCra-Event-Type: AlertSet,AlertDeleted\r\nB:  spaced  \r\nCra-Event-Type: later\r\n\r\n'),
      ),
    ).toEqual({
      'Cra-Event-Type': 'AlertSet,AlertDeleted',
      B: 'spaced',
    });
  });

  it('skips the status line, blank lines and lines without a colon; an empty key or value is still a header', () => {
    expect(parseHeaderBlock(block('NATS/1.0 503\r\n\r\n'))).toEqual({});
    expect(parseHeaderBlock(block('NATS/1.0\r\nno colon here\r\n\r\nA:\r\n: empty key\r\nC:x:y\r\n\r\n'))).toEqual({
      A: '',
      '': 'empty key',
      C: 'x:y',
    });
    expect(parseHeaderBlock(block('NATS/1.0'))).toEqual({});
  });

  it('reads UTF-8 values, trimming Unicode spaces as nats.js does', () => {
    expect(parseHeaderBlock(block('NATS/1.0\r\nName: Zoë 日本\r\n\r\n'))).toEqual({ Name: 'Zoë 日本' });
    expect(
      parseHeaderBlock(block('NATS/1.0\r\nA: \u00a0x\u3000\r\nB:\tb \r\nCra-Event-Type: AlertSet\r\n\r\n')),
    ).toEqual({ A: 'x', B: 'b', 'Cra-Event-Type': 'AlertSet' });
  });
});
