import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

/**
 * Listens on 127.0.0.1 (port 0 = any free one) and answers the URL and a
 * close that drops keep-alive connections first.
 *
 * @example
 * const { url, close } = await listenLoopback(app);
 */
export async function listenLoopback(app: Express, port = 0): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = await new Promise((resolve, reject) => {
    const srv = app.listen(port, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(srv)));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
