import { isIPv4, isIPv6 } from 'node:net';

/**
 * The key a client's budgets are counted under: an IPv4 address as it is (an
 * IPv4-mapped IPv6 one as its IPv4 address), an IPv6 address as its /64. One
 * host, or one network, holds a whole /64, so counting per IPv6 address would
 * let a client rotate through addresses and never spend a budget. Anything
 * else (not an IP) is kept as it is.
 *
 * @example
 * clientKey('192.0.2.7') // => '192.0.2.7'
 * clientKey('2001:db8::1') // => '2001:db8:0:0::/64'
 * clientKey('::ffff:192.0.2.7') // => '192.0.2.7'
 */
export function clientKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIPv4(ip) || !isIPv6(ip)) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // Only the first four groups count, so an embedded IPv4 at the end needs no care.
  const groups = [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
