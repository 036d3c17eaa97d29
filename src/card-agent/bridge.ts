import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { CardauthError } from '../errors';
import { createErrorHandler } from '../error-handler';
import type { Logger } from '../logger';
import type { SamePeer } from './peer-user';
import type { TapBroker } from './tap-broker';

/** What `GET /v1/status` shows: never a UID. */
export interface AgentStatus {
  agentId: string | null;
  /** null when the server could not be asked. */
  approved: boolean | null;
  pcscUp: boolean;
  readers: Array<{ name: string; cardPresent: boolean }>;
}

export interface BridgeDeps {
  /** Page origins allowed to call the bridge; also the only `aud` it signs for. */
  origins: readonly string[];
  waitMs: number;
  broker: TapBroker;
  /** Signs a card statement for this tap (docs/card-statement.md). */
  sign: (claims: { aud: string; nonce: string; uid: string; reader: string; desk?: boolean }) => Promise<string>;
  /** Throws (e.g. `unavailable`: not enrolled) when no statement could be signed, so a page is refused before it waits for a tap. */
  canSign?: () => void;
  status: () => Promise<AgentStatus>;
  logger: Logger;
  now: () => number;
  /**
   * On a terminal server every user shares 127.0.0.1: when set, a request is
   * served only if this says its connection belongs to the agent's own user.
   */
  samePeer?: SamePeer;
}

/** The names the bridge answers to: it listens on loopback only (CARDAUTH_AGENT_HOST). */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const hostName = (host: string | undefined) => (host ?? '').replace(/:\d+$/, '').toLowerCase();

const StatementRequest = z.strictObject({
  nonce: z.string().regex(/^[A-Za-z0-9_-]{16,128}$/),
  aud: z.string().max(256),
  /** `desk_read`: the workbench reads a card to bind it, at the officer's open session (TapBroker.nextTap `desk`). */
  purpose: z.literal('desk_read').optional(),
});

/**
 * The loopback bridge between the login page and the card agent. Bind it to
 * 127.0.0.1 only. Every request must carry an Origin on the allow-list (any
 * other, or none, gets 403) and name a loopback Host (a DNS-rebound name
 * gets 403 too, whatever its Origin); CORS preflights are answered,
 * including Chromium's Private Network Access header.
 *
 * - `GET /v1/status`: readers, card present, agent id, approved — no UID;
 * - `POST /v1/statement {nonce, aud, purpose?}`: long-polls for a tap, answers
 *   `{statement}`, 408 `tap_timeout`, 422 `card_unreadable`, or 409
 *   `superseded` when a newer request came (one waits at a time);
 * - `GET /v1/events`: Server-Sent Events `reader`, `card`, `removed` — no UID.
 *
 * With `samePeer` (terminal servers), another OS user's browser gets 403.
 *
 * @example
 * createBridge({ origins, waitMs: 25_000, broker, sign, status, logger }).listen(47800, '127.0.0.1');
 */
export function createBridge(deps: BridgeDeps): Express {
  const origins = new Set(deps.origins);
  const app = express();
  app.disable('x-powered-by');

  app.use((req: Request, res: Response, next: NextFunction) => {
    if (!LOOPBACK_HOSTS.has(hostName(req.get('host')))) return next(new CardauthError('forbidden', 'the bridge answers only to 127.0.0.1, localhost or [::1]'));
    if (deps.samePeer && !deps.samePeer(req.socket)) return next(new CardauthError('forbidden', 'this agent serves another user'));
    const origin = req.get('origin');
    if (!origin || !origins.has(origin)) return next(new CardauthError('origin_forbidden', 'origin not allowed'));
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Vary', 'Origin');
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST');
      res.setHeader('Access-Control-Allow-Headers', 'content-type');
      res.setHeader('Access-Control-Max-Age', '600');
      if (req.get('access-control-request-private-network') === 'true') res.setHeader('Access-Control-Allow-Private-Network', 'true');
      res.status(204).end();
      return;
    }
    next();
  });
  app.use(express.json({ limit: '4kb', type: 'application/json' }));

  app.get('/v1/status', async (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(await deps.status());
  });

  app.post('/v1/statement', async (req, res) => {
    const parsed = StatementRequest.safeParse(req.body ?? {});
    if (!parsed.success) throw new CardauthError('bad_request', `invalid field: ${parsed.error.issues[0]?.path.join('.') || 'body'}`);
    const { nonce, aud, purpose } = parsed.data;
    if (aud !== req.get('origin')) throw new CardauthError('bad_request', 'aud must be the origin of the page asking');
    deps.canSign?.();
    const gone = new AbortController();
    res.on('close', () => gone.abort()); // the page closed or navigated away: give up the wait
    const tap = await deps.broker.nextTap(deps.waitMs, gone.signal, { desk: purpose === 'desk_read' });
    const statement = await deps.sign({ aud, nonce, uid: tap.uid, reader: tap.reader, ...(purpose === 'desk_read' ? { desk: true } : {}) });
    // From pcscd reporting the card to a signed statement (the bench reads this; no UID).
    deps.logger.info('statement_signed', {
      reader: tap.reader,
      msSinceCard: deps.now() - tap.at,
      ...(tap.readMs !== undefined ? { readMs: tap.readMs } : {}),
      ...(tap.inadmissible ? { inadmissible: true } : {}),
    });
    res.setHeader('Cache-Control', 'no-store');
    res.json({ statement });
  });

  app.get('/v1/events', (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    const send = (event: string) => (data: { reader: string; at: number }) => {
      res.write(`event: ${event}\ndata: ${JSON.stringify({ reader: data.reader, at: new Date(data.at).toISOString() })}\n\n`);
    };
    const onCard = send('card');
    const onRemoved = send('removed');
    deps.broker.on('card', onCard);
    deps.broker.on('removed', onRemoved);
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    req.on('close', () => {
      clearInterval(ping);
      deps.broker.off('card', onCard);
      deps.broker.off('removed', onRemoved);
    });
  });

  app.use((_req, _res, next) => next(new CardauthError('not_found', 'no such endpoint')));
  app.use(createErrorHandler(deps.logger));
  return app;
}
