import ipaddr from 'ipaddr.js';

/**
 * The key under which a source address is throttled: an IPv4 address as it is (also when it
 * arrives IPv4-mapped, `::ffff:a.b.c.d`), an IPv6 address by its /64 — one subscriber usually
 * holds a whole /64, so counting single IPv6 addresses would give an attacker 2^64 fresh budgets.
 * Anything unparseable (no socket address) is one shared key.
 */
export function addressKey(address: string): string {
  if (!ipaddr.isValid(address)) return 'unknown';
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const v6 = parsed as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${v6.toString()}/64`).toString()}/64`;
}
