import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/** Where a SIEM's syslog receiver listens (TCP, or TLS: RFC 5425). */
export interface SyslogTarget {
  host: string;
  port: number;
  /** TLS with the receiver's certificate checked against `ca` (PEM; the system's CAs when absent); false: plain TCP. */
  tls: false | { ca?: string };
  /** How long a connect may take. */
  connectTimeoutMs: number;
}

/** One open connection to the receiver. */
export interface SyslogConnection {
  /** Resolves once the bytes are handed to the operating system; rejects when the connection is gone. */
  write(frame: Buffer): Promise<void>;
  /** True once the receiver closed it, or it broke: what was written shortly before may not have arrived. */
  readonly closed: boolean;
  close(): void;
}

/**
 * Opens a connection to the SIEM's receiver; rejects with the reason when it
 * cannot (refused, a timeout, a certificate that does not verify).
 *
 * @example
 * const conn = await openSyslogConnection({ host: 'siem.clinic.local', port: 6514, tls: {}, connectTimeoutMs: 5000 });
 * await conn.write(frame);
 */
export function openSyslogConnection(target: SyslogTarget): Promise<SyslogConnection> {
  return new Promise((resolve, reject) => {
    const socket: Socket = target.tls
      ? tlsConnect({ host: target.host, port: target.port, ...(isIP(target.host) ? {} : { servername: target.host }), ...(target.tls.ca ? { ca: target.tls.ca } : {}) })
      : netConnect({ host: target.host, port: target.port });
    let closed = false;
    let failure: Error | undefined;
    const timer = setTimeout(() => socket.destroy(new Error(`no connection within ${target.connectTimeoutMs} ms`)), target.connectTimeoutMs);
    socket.setNoDelay(true);
    socket.on('error', (err) => {
      failure = err;
    });
    // The receiver sends nothing on syslog-over-TCP: anything read is ignored; its end is the connection's.
    socket.on('data', () => undefined);
    socket.on('end', () => socket.destroy());
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      reject(failure ?? new Error('connection closed'));
    });
    socket.once(target.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      resolve({
        get closed() {
          return closed;
        },
        write: (frame) =>
          new Promise<void>((done, fail) => {
            if (closed) return fail(failure ?? new Error('connection closed'));
            socket.write(frame, (err) => (err ? fail(err) : done()));
          }),
        close: () => socket.destroy(),
      });
    });
  });
}
