import { readFileSync } from 'node:fs';
import { CardauthError } from '../errors';
import type { Logger } from '../logger';

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

/** Tells whether a connection to the bridge belongs to the agent's own OS user (see createBridge's `samePeer`). */
export type SamePeer = (socket: { remoteAddress?: string | undefined; remotePort?: number | undefined }) => boolean;

/**
 * The bridge's same-user check for CARDAUTH_AGENT_SAME_USER on this OS.
 * Where the OS can tell the user of a loopback connection (Linux), `auto`
 * and `true` check it. Elsewhere (Windows for now) `true` is a config
 * error, and `auto` runs without the check and logs a warning naming the
 * risk. `false` runs without it.
 *
 * @example
 * const samePeer = sameUserCheck(config.CARDAUTH_AGENT_SAME_USER, logger);
 */
export function sameUserCheck(
  setting: 'auto' | boolean,
  logger: Pick<Logger, 'warn'>,
  os: { platform: NodeJS.Platform; uid: number | undefined } = { platform: process.platform, uid: process.getuid?.() },
): SamePeer | undefined {
  if (setting === false) return undefined;
  const me = os.uid;
  if (os.platform === 'linux' && me !== undefined) return (socket) => peerUid(socket.remoteAddress, socket.remotePort) === me;
  // Windows: the equivalent is GetExtendedTcpTable (owning PID) + ProcessIdToSessionId; see docs/workstations.md.
  if (setting === true) {
    throw new CardauthError('config_invalid', `CARDAUTH_AGENT_SAME_USER: true, but on ${os.platform} the agent cannot tell which user a loopback connection belongs to (only on Linux, for now); see docs/workstations.md`);
  }
  logger.warn('agent_same_user_unchecked', {
    platform: os.platform,
    risk: "any local program, another OS user's on a terminal server too, can reach this agent's loopback port and ask it for card statements",
    hint: 'see docs/workstations.md; CARDAUTH_AGENT_SAME_USER=false on a single-user workstation',
  });
  return undefined;
}

