import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

// helmet itself rather than @fastify/helmet, which builds a new helmet middleware on every request.

/** Strict CSP (scripts only from our origin, no inline) and helmet's other defaults; HSTS only as securityOptions says. */
const SITE_INDEPENDENT = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      objectSrc: ["'none'"],
    },
  },
  crossOriginEmbedderPolicy: false,
} satisfies HelmetOptions;

/** A year of HSTS when the site is served over https (PUBLIC_URL), so browsers never try plain http again; none on http. */
export function securityOptions(publicUrl: string): HelmetOptions {
  const https = new URL(publicUrl).protocol === 'https:';
  return { ...SITE_INDEPENDENT, hsts: https ? { maxAge: 31_536_000, includeSubDomains: true, preload: false } : false };
}

/** The options of a site on plain http. */
export const SECURITY_OPTIONS: HelmetOptions = securityOptions('http://localhost');

/**
 * The headers helmet sets for these options, worked out once: none of them depends on the request (no CSP
 * nonces), so every response gets the same ones without running helmet again.
 */
export function securityHeaders(options: HelmetOptions = SECURITY_OPTIONS): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  let failure: unknown;
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    failure = error;
  });
  if (failure) throw failure;
  return headers;
}
