import { describe, expect, it } from 'vitest';
import { securityHeaders, securityOptions } from './securityHeaders.ts';

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

  it('tells browsers to use https only for a site served over https, for a year and its subdomains', () => {
    expect(securityHeaders(securityOptions('https://cra.example.com'))['strict-transport-security']).toBe(
      'max-age=31536000; includeSubDomains',
    );
    expect(securityHeaders(securityOptions('https://cra.example.com:8443/base'))['strict-transport-security']).toBe(
      'max-age=31536000; includeSubDomains',
    );
  });

  it('sends no HSTS for a site on plain http (a developer start, a test)', () => {
    expect(securityHeaders(securityOptions('http://localhost:7007'))['strict-transport-security']).toBeUndefined();
    expect(securityHeaders()['strict-transport-security']).toBeUndefined();
  });

  it('keeps the CSP whatever the scheme', () => {
    expect(securityHeaders(securityOptions('https://cra.example.com'))['content-security-policy']).toBe(
      securityHeaders()['content-security-policy'],
    );
  });

  it('follows the options given', () => {
    expect(securityHeaders({ contentSecurityPolicy: false })['content-security-policy']).toBeUndefined();
  });
});
