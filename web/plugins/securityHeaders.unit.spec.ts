import { describe, expect, it } from 'vitest';
import { securityHeaders } from './securityHeaders.ts';

describe('securityHeaders', () => {
  it('allows scripts, styles and form posts from our own origin only, and no framing', () => {
    const headers = securityHeaders();
    const csp = headers['content-security-policy']!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['x-frame-options']).toBe('SAMEORIGIN');
  });

  it('leaves HSTS to the TLS-terminating proxy', () => {
    expect(securityHeaders()['strict-transport-security']).toBeUndefined();
  });

  it('follows the options given', () => {
    expect(securityHeaders({ contentSecurityPolicy: false })['content-security-policy']).toBeUndefined();
  });
});
