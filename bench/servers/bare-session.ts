import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import Redis from 'ioredis';
import { Passport } from 'passport';
import type { SessionUser } from '../../src/strategies/session-user';
import { serveRpc } from '../lib/children';
import { listenLoopback } from '../lib/listen';
import { BENCH_SECRET } from './cardauth';

/**
 * The baseline for authenticated reads: Express 5 + express-session +
 * connect-redis 8 + ioredis + passport.session() with identity
 * (de)serialisers, with the same session options as createApp (cookie name,
 * prefix 'sess:', ttl, disableTouch, resave false, saveUninitialized false,
 * cookie httpOnly/sameSite strict/secure false/path /) and a session user of
 * the same shape and size as cardauth's. No helmet, no JSON parser, no
 * origin guard, no session guard.
 */
export interface BareOptions {
  redisUrl: string;
  /** Stored as passport.user by POST /login (same shape as cardauth's SessionUser). */
  user: SessionUser;
  ttlSec: number;
}

export async function startBare(opts: BareOptions): Promise<{ url: string; close(): Promise<void> }> {
  const redis = new Redis(opts.redisUrl);
  await new Promise<void>((resolve, reject) => {
    redis.once('ready', () => resolve());
    redis.once('error', reject);
  });
  const app = express();
  app.disable('x-powered-by');
  app.use(
    session({
      name: 'cardauth.sid',
      secret: [BENCH_SECRET],
      store: new RedisStore({ client: redis, prefix: 'sess:', ttl: opts.ttlSec, disableTouch: true }),
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'strict', secure: false, path: '/' },
    }),
  );
  const passport = new Passport();
  passport.serializeUser((user: Express.User, done) => done(null, user));
  passport.deserializeUser((user: Express.User, done) => done(null, user));
  app.use(passport.initialize());
  app.use(passport.session());
  app.post('/login', (req, res, next) => {
    req.logIn({ ...opts.user, authTime: Date.now() } as Express.User, (err) => (err ? next(err) : res.json({ ok: true })));
  });
  app.get('/auth/session', (req, res) => {
    if (!req.user) {
      res.status(401).json({ error: 'unauthenticated' });
      return;
    }
    res.json(req.user);
  });
  const listening = await listenLoopback(app);
  return {
    url: listening.url,
    async close() {
      await listening.close();
      redis.disconnect();
    },
  };
}

if (require.main === module) {
  void (async () => {
    const running = await startBare(JSON.parse(process.argv[2]!) as BareOptions);
    serveRpc({}, { url: running.url }, () => running.close());
  })().catch((err: unknown) => {
    process.stderr.write(`bare bench server: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
