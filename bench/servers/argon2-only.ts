import { availableParallelism } from 'node:os';
import express from 'express';
import { cardauth } from '../lib/cardauth';
import { serveRpc } from '../lib/children';
import { listenLoopback } from '../lib/listen';

/**
 * The ceiling for any login on this machine: an Express 5 app whose
 * `POST /auth/login` parses the same JSON body and only runs cardauth's own
 * password hasher (same parameters, at most one verify per core) against one
 * PHC string. No Redis, no session, no statement, no lockout, no audit. What
 * it reaches against the bare bound is as high as a full login could go with
 * the load generator and the HTTP server on the same cores.
 */
export interface Argon2OnlyOptions {
  phc: string;
  params: { memoryKiB: number; time: number; parallelism: number };
}

export async function startArgon2Only(opts: Argon2OnlyOptions): Promise<{ url: string; close(): Promise<void> }> {
  const hasher = cardauth.passwordHasher.createPasswordHasher(opts.params, availableParallelism());
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '16kb' }));
  app.post('/auth/login', (req, res, next) => {
    const { login, password } = req.body as { login: string; password: string };
    hasher.verify(opts.phc, password).then((ok) => (ok ? res.json({ login }) : res.status(401).json({ error: 'login_failed' })), next);
  });
  return listenLoopback(app);
}

if (require.main === module) {
  void (async () => {
    const running = await startArgon2Only(JSON.parse(process.argv[2]!) as Argon2OnlyOptions);
    serveRpc({}, { url: running.url }, () => running.close());
  })().catch((err: unknown) => {
    process.stderr.write(`argon2-only bench server: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
