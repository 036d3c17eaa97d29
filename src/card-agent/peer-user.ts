import { readFileSync } from 'node:fs';

/** `127.0.0.1` → `0100007F` as /proc/net/tcp writes it (little-endian hex). */
function procHex4(ip: string): string | undefined {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return parts
    .reverse()
    .map((p) => p.toString(16).padStart(2, '0'))
    .join('')
    .toUpperCase();
}

/** `::1` and `::ffff:127.0.0.1` as /proc/net/tcp6 writes them. */
function procHex6(ip: string): string | undefined {
  if (ip === '::1') return '00000000000000000000000001000000';
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const hex = v4 ? procHex4(v4[1]!) : undefined;
  return hex ? `0000000000000000FFFF0000${hex}` : undefined;
}

/**
 * The uid owning the other end of a loopback TCP connection, read from
 * /proc/net/tcp and tcp6 (Linux). On a terminal server every user shares
 * 127.0.0.1: this is how an agent tells its own user's browser from
 * another user's. Undefined when it cannot tell (not Linux, not loopback,
 * connection gone).
 *
 * @example
 * peerUid(req.socket.remoteAddress, req.socket.remotePort) === process.getuid?.()
 */
export function peerUid(remoteAddress: string | undefined, remotePort: number | undefined): number | undefined {
  if (process.platform !== 'linux' || !remoteAddress || !remotePort) return undefined;
  const port = remotePort.toString(16).padStart(4, '0').toUpperCase();
  const candidates: Array<[string, string | undefined]> = [
    ['/proc/net/tcp', remoteAddress.includes(':') ? procHex4(remoteAddress.replace(/^::ffff:/i, '')) : procHex4(remoteAddress)],
    ['/proc/net/tcp6', procHex6(remoteAddress.includes(':') ? remoteAddress : `::ffff:${remoteAddress}`)],
  ];
  for (const [file, hex] of candidates) {
    if (!hex) continue;
    let table: string;
    try {
      table = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const local = `${hex}:${port}`;
    for (const line of table.split('\n')) {
      const cols = line.trim().split(/\s+/);
      if (cols[1] === local) return Number(cols[7]);
    }
  }
  return undefined;
}
