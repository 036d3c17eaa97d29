import { Router } from 'express';
import { z } from 'zod';
import type { ServerConfig } from '../../src/config';
import { CardauthError } from '../../src/errors';
import { parseBody } from '../../src/http/validate';
import type { Logger } from '../../src/logger';
import { DEMO_CARDS } from './fixtures';
import { createDemoTapper } from './tapper';

export interface DemoRoutesDeps {
  /** The demo cards the login page offers as buttons. */
  cards: readonly { uid: string; label: string }[];
  /** Puts a card on the demo's virtual reader (a `DemoTapper`). */
  tap: (uid: string) => Promise<void>;
}

const TapBody = z.strictObject({ uid: z.string().min(2).max(64) });

/** Uppercase hex without separators, for comparing with the demo list. */
const plainHex = (uid: string) => uid.replace(/[\s:-]/g, '').toUpperCase();

/**
 * Demo-only routes, mounted (through createApp's `extraRoutes`) by the demo's
 * own server (`demoRoutes`, below), never by the shipped `cardauth serve`:
 *
 * - `GET /demo/cards` → `{cards: [{uid, label}]}`, the login page's tap buttons;
 * - `POST /demo/tap {uid}` → 202 once the card is on the virtual reader
 *   (the agent reads it as from a real one). Like every POST it must carry
 *   the public Origin; only a demo card can be tapped (`bad_request`
 *   otherwise); 503 `unavailable` when the virtual reader is not running.
 *
 * Like every /demo/ path, the answers get createApp's API headers
 * (`Cache-Control: no-store` among them); this router sets none of its own.
 *
 * The tap is not audited here: it stands for a hand and a card; what the
 * agent and the card step do with it is.
 *
 * @example
 * createApp({ ...deps, extraRoutes: [createDemoRoutes({ cards: DEMO_CARDS, tap: createDemoTapper({ dir: 'var/demo' }).tap })] });
 */
export function createDemoRoutes(deps: DemoRoutesDeps): Router {
  if (!deps || !Array.isArray(deps.cards) || typeof deps.tap !== 'function') throw new TypeError('createDemoRoutes needs { cards, tap }');
  const cards = deps.cards.map(({ uid, label }) => ({ uid: plainHex(uid), label }));
  const router = Router();

  router.get('/demo/cards', (_req, res) => {
    res.json({ cards });
  });

  router.post('/demo/tap', async (req, res) => {
    const { uid } = parseBody(req, TapBody);
    const card = cards.find((c) => c.uid === plainHex(uid));
    if (!card) throw new CardauthError('bad_request', 'not a demo card');
    await deps.tap(card.uid);
    res.status(202).json({ uid: card.uid });
  });
  return router;
}

/**
 * The demo's server side, for `serve` in dev/cli.ts (what `demo` runs): with
 * CARDAUTH_DEMO, the routes above over the virtual reader in
 * CARDAUTH_DEMO_VPCD_DIR, and a warning in the log; without it, none.
 *
 * @example
 * await startServer({ config, logger, clock, extraRoutes: demoRoutes(config, logger) });
 */
export function demoRoutes(config: ServerConfig, logger: Logger): Router[] {
  if (!config.CARDAUTH_DEMO) return [];
  // Demo only: tap buttons on the login page put virtual cards on the demo's virtual reader.
  logger.warn('demo_mode', { vpcdDir: config.CARDAUTH_DEMO_VPCD_DIR, note: 'POST /demo/tap is on; never run demo mode in production' });
  return [createDemoRoutes({ cards: DEMO_CARDS, tap: createDemoTapper({ dir: config.CARDAUTH_DEMO_VPCD_DIR }).tap })];
}
