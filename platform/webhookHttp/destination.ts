import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { nonPublicReason } from './publicAddress.ts';

/** Which webhook URLs a deployment allows beyond public https ones (WEBHOOK_ALLOW_HTTP, WEBHOOK_ALLOW_PRIVATE). */
export type DestinationPolicy = { allowHttp: boolean; allowPrivate: boolean };

/** A webhook URL refused, with the reason as the person who typed it reads it (never anything a server answered). */
export class RefusedDestination extends Error {}
/** The host has no address now: refused when a channel is saved, but at a send perhaps a passing DNS failure (retried). */
export class HostNotFound extends Error {}

/** The host as the connection sees it: brackets off an IPv6 literal. */
const hostOf = (url: URL) => url.hostname.replace(/^\[|\]$/g, '');

/**
 * What can be known of a URL without the network: its scheme, and a literal address's range. The WHATWG parser has
 * already turned decimal, octal and hex spellings of an IPv4 address (http://2130706433, http://0177.0.0.1) into dots.
 */
export function checkUrl(url: URL, policy: DestinationPolicy): void {
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp))
    throw new RefusedDestination('Use an https:// URL');
  if (url.username !== '' || url.password !== '')
    throw new RefusedDestination('Leave the user name and password out of the URL');
  const host = hostOf(url);
  if (policy.allowPrivate) return;
  if (isIP(host)) {
    const reason = nonPublicReason(host);
    if (reason) throw new RefusedDestination(`That address is not on the public internet (${reason})`);
  } else if (host === 'localhost' || host.endsWith('.localhost') || !host.includes('.'))
    throw new RefusedDestination('That host is not on the public internet');
}

export type Resolve = (host: string) => Promise<{ address: string; family: number }[]>;
export const systemResolve: Resolve = (host) => lookup(host, { all: true, verbatim: true });

/**
 * Every address the host resolves to, each one public (unless private ones are allowed): one private answer among
 * public ones refuses the host, since a later lookup could pick it.
 */
export async function publicAddresses(
  host: string,
  policy: DestinationPolicy,
  resolve: Resolve = systemResolve,
): Promise<{ address: string; family: number }[]> {
  if (isIP(host)) {
    const reason = policy.allowPrivate ? undefined : nonPublicReason(host);
    if (reason) throw new RefusedDestination(`That address is not on the public internet (${reason})`);
    return [{ address: host, family: isIP(host) }];
  }
  let found: { address: string; family: number }[];
  try {
    found = await resolve(host);
  } catch {
    throw new HostNotFound(`The host ${host} was not found`);
  }
  if (found.length === 0) throw new HostNotFound(`The host ${host} was not found`);
  if (!policy.allowPrivate)
    for (const { address } of found) {
      const reason = nonPublicReason(address);
      if (reason) throw new RefusedDestination(`${host} resolves to an address not on the public internet (${reason})`);
    }
  return found;
}

/** The save-time check of a webhook URL: its form, then where its host resolves now (checked again at each send). */
export async function checkDestination(
  value: string,
  policy: DestinationPolicy,
  resolve: Resolve = systemResolve,
): Promise<void> {
  const url = new URL(value);
  checkUrl(url, policy);
  try {
    await publicAddresses(hostOf(url), policy, resolve);
  } catch (error) {
    throw error instanceof HostNotFound ? new RefusedDestination(error.message) : error;
  }
}
