import type Redis from 'ioredis';
import type { Clock } from '../clock';
import { errorMessage, type Logger } from '../logger';
import type { SyslogConnection } from './syslog-connection';

export interface SiemForwarderDeps {
  redis: Pick<Redis, 'xgroup' | 'xreadgroup' | 'xack'>;
  /** Opens a connection to the receiver (openSyslogConnection with the target bound). */
  connect: () => Promise<SyslogConnection>;
  /** One stream entry's fields → the frame to send (syslogFrame with the origin bound). */
  frame: (fields: readonly string[]) => Buffer;
  clock: Clock;
  logger: Logger;
  /**
   * How long a sent record must stay behind an open connection before it counts as delivered
   * (XACK). Plain syslog over TCP has no acknowledgement: a receiver that dies drops what it had
   * not read yet, and its connection's end shows only then. Records sent within this time before
   * a connection ends are sent again.
   */
  confirmMs: number;
  /** Wait after a failed connect or a Redis error. */
  retryMs: number;
  /** The audit stream. Default `audit:log`. */
  key?: string;
  /** Default `siem`: the consumer group holds the cursor in Redis, so a restart resumes. */
  group?: string;
  /** Default `forwarder`. */
  consumer?: string;
  /** Records per read. Default 200. */
  batch?: number;
}

export interface SiemForwarder {
  /** Forwards until `signal` aborts; resolves then. Never rejects: failures are logged and retried. */
  run(signal: AbortSignal): Promise<void>;
}

type StreamReply = [string, [string, string[] | null][]][] | null;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Sends the audit trail to a SIEM, at least once, in chain order: the stream's
 * consumer group `siem` holds the cursor in Redis. On each connection it first
 * sends the records it read before but never confirmed (XREADGROUP from `0`),
 * then new ones (`>`); a record is confirmed (XACK) once it has stayed
 * `confirmMs` behind a connection that is still open. A receiver that goes
 * away therefore gets, when it is back, everything from the first record it
 * may have missed: a few duplicates, no gap. Redis down: it waits and resumes.
 * The group is created at the stream's start, so the first run sends the whole
 * trail.
 *
 * @example
 * const ac = new AbortController();
 * await createSiemForwarder({ redis, connect, frame, clock, logger, confirmMs: 2000, retryMs: 1000 }).run(ac.signal);
 */
export function createSiemForwarder(deps: SiemForwarderDeps): SiemForwarder {
  if (typeof deps?.connect !== 'function' || typeof deps.frame !== 'function') throw new TypeError('createSiemForwarder: connect and frame are required');
  const key = deps.key ?? 'audit:log';
  const group = deps.group ?? 'siem';
  const consumer = deps.consumer ?? 'forwarder';
  const batch = deps.batch ?? 200;
  // A read waits for new records at most this long, so confirmations keep coming while it is quiet.
  const blockMs = Math.max(50, Math.min(1000, Math.floor(deps.confirmMs / 2)));

  const ensureGroup = async () => {
    try {
      await deps.redis.xgroup('CREATE', key, group, '0', 'MKSTREAM');
    } catch (err) {
      if (!/BUSYGROUP/.test(errorMessage(err))) throw err;
    }
  };

  /** One connection's life: resend the unconfirmed, then follow the stream, until it breaks or `signal` aborts. */
  const session = async (conn: SyslogConnection, signal: AbortSignal) => {
    const sent: { id: string; at: number }[] = [];
    let cursor = '0';
    const confirm = async () => {
      const due = deps.clock.now() - deps.confirmMs;
      let n = 0;
      while (n < sent.length && sent[n]!.at <= due) n++;
      if (n === 0 || conn.closed) return;
      await deps.redis.xack(key, group, ...sent.slice(0, n).map((s) => s.id));
      sent.splice(0, n);
    };
    while (!signal.aborted && !conn.closed) {
      const reply = (
        cursor === '>'
          ? await deps.redis.xreadgroup('GROUP', group, consumer, 'COUNT', batch, 'BLOCK', blockMs, 'STREAMS', key, '>')
          : await deps.redis.xreadgroup('GROUP', group, consumer, 'COUNT', batch, 'STREAMS', key, cursor)
      ) as StreamReply;
      const entries = reply?.[0]?.[1] ?? [];
      if (cursor !== '>') cursor = entries.length === 0 ? '>' : entries[entries.length - 1]![0];
      const frames: Buffer[] = [];
      const gone: string[] = [];
      for (const [id, fields] of entries) {
        // An entry trimmed away after it was read (retention) has no fields left: nothing to send.
        if (fields === null) gone.push(id);
        else frames.push(deps.frame(fields));
      }
      if (gone.length) await deps.redis.xack(key, group, ...gone);
      if (frames.length) {
        await conn.write(Buffer.concat(frames));
        const at = deps.clock.now();
        for (const [id, fields] of entries) if (fields !== null) sent.push({ id, at });
      }
      await confirm();
    }
  };

  return {
    async run(signal) {
      let down = false;
      const paused = (err: unknown) => {
        // Once per outage, not once per retry.
        if (!down) deps.logger.warn('siem_paused', { err: errorMessage(err) });
        down = true;
      };
      while (!signal.aborted) {
        let conn: SyslogConnection | undefined;
        try {
          await ensureGroup();
          conn = await deps.connect();
          if (down) deps.logger.info('siem_resumed');
          down = false;
          await session(conn, signal);
          if (conn.closed) paused(new Error('the receiver closed the connection'));
        } catch (err) {
          paused(err);
        } finally {
          conn?.close();
        }
        if (!signal.aborted && down) await sleep(deps.retryMs, signal);
      }
    },
  };
}
