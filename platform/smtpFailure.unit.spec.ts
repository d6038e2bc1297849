import { describe, expect, it } from 'vitest';
import { smtpFailure } from './smtpFailure.ts';

/** An error as nodemailer rejects with it. */
const smtpError = (code: string, responseCode?: number, response?: string) =>
  Object.assign(new Error(response ?? code), { code, responseCode, response });

describe('what a failed SMTP send means', () => {
  it('a 5xx refusal of the recipient or the message is permanent, named by its codes only', () => {
    expect(smtpFailure(smtpError('EENVELOPE', 550, '550 5.1.1 <bob@example.com>: Recipient address rejected'))).toEqual(
      { permanent: true, code: 550, detail: 'SMTP 550 5.1.1' },
    );
    expect(smtpFailure(smtpError('EMESSAGE', 554, '554 Message refused'))).toEqual({
      permanent: true,
      code: 554,
      detail: 'SMTP 554',
    });
  });

  it('a 4xx reply is for now', () => {
    expect(smtpFailure(smtpError('EENVELOPE', 451, '451 4.7.1 Greylisted, try again later'))).toEqual({
      permanent: false,
      code: 451,
      detail: 'SMTP 451 4.7.1',
    });
    expect(smtpFailure(smtpError('EENVELOPE', 452, '452-4.2.2 Mailbox full\r\n452 4.2.2 more'))).toMatchObject({
      permanent: false,
      detail: 'SMTP 452 4.2.2',
    });
  });

  it('a 5xx that is not about this email (a refused login, a greeting that turns everyone away) is retried', () => {
    expect(smtpFailure(smtpError('EAUTH', 535, '535 5.7.8 Authentication credentials invalid'))).toEqual({
      permanent: false,
      code: 535,
      detail: 'SMTP 535 5.7.8 (EAUTH)',
    });
    expect(smtpFailure(smtpError('EPROTOCOL', 554, '554 No SMTP service here'))).toMatchObject({ permanent: false });
  });

  it('timeouts, failed connections and anything else are for now, and never echo a message', () => {
    expect(smtpFailure(smtpError('ETIMEDOUT'))).toEqual({ permanent: false, detail: 'timeout (ETIMEDOUT)' });
    expect(smtpFailure(smtpError('ECONNECTION'))).toEqual({
      permanent: false,
      detail: 'connection failed (ECONNECTION)',
    });
    expect(smtpFailure(new Error('to bob@example.com: something odd'))).toEqual({
      permanent: false,
      detail: 'connection failed',
    });
    expect(smtpFailure('a string')).toEqual({ permanent: false, detail: 'connection failed' });
    expect(smtpFailure(smtpError('bob@example.com', 550))).toEqual({ permanent: false, code: 550, detail: 'SMTP 550' });
  });
});
