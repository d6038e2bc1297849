import ipaddr from 'ipaddr.js';

/**
 * Why an address is no webhook's destination, or undefined when it is a public unicast address. Everything ipaddr.js
 * does not call `unicast` is refused: loopback, private, link-local (cloud metadata 169.254.169.254), carrier-grade
 * NAT, multicast, broadcast, unspecified, reserved and documentation ranges; IPv6 unique-local (fd00:ec2::254),
 * link-local, and the forms that carry an IPv4 address: a mapped one (::ffff:a.b.c.d) is judged as the IPv4 address
 * it carries, NAT64, 6to4 and Teredo ones are refused.
 */
export function nonPublicReason(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  const range = parsed.range();
  return range === 'unicast' ? undefined : `${parsed.toString()} is in the ${range} range`;
}
