import { BlockList, isIP } from 'node:net';

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** 127.0.0.0/8 and ::1, in any spelling, IPv4-mapped included (how a dual-stack socket reports an IPv4 peer). */
export function isLoopbackAddress(address: string | undefined): boolean {
  const family = isIP(address ?? '');
  return family !== 0 && loopback.check(address!, family === 6 ? 'ipv6' : 'ipv4');
}

/** An address that listens on every interface. */
export const isWildcardAddress = (host: string) => host === '0.0.0.0' || host === '::' || host === '0:0:0:0:0:0:0:0';

/** The URL to open in a browser on this machine for a server listening on host:port. */
export function browserUrl(host: string, port: number): string {
  if (host === 'localhost' || isLoopbackAddress(host) || isWildcardAddress(host)) return `http://localhost:${port}`;
  return isIP(host) === 6 ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}
