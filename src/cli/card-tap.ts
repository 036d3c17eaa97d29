import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { createVirtualCard, VPCD_PORTS } from '../card-agent/vpcd-card';
import { relaySocketPath } from '../demo/virtual-reader';
import { CardauthError } from '../errors';
import { checkValues, flag } from './args';
import type { Command } from './command';

/** Where `card tap --hold` keeps its pid, so `card remove` can take the card off. */
const DEFAULT_STATE_DIR = 'var/demo';

const slotArg = z.enum(['0', '1']).default('0').transform(Number) as unknown as z.ZodType<0 | 1>;
const common = {
  slot: { type: 'string' },
  vpcd: { type: 'string' },
  'state-dir': { type: 'string' },
} as const;

/**
 * Where the virtual reader listens: `HOST:PORT`, or a Unix socket path (the
 * demo's relay into pcscd's private network namespace). By default the
 * demo's relay socket when it exists, else vpcd's own port on 127.0.0.1.
 */
function vpcdTarget(vpcd: string | undefined, slot: 0 | 1, stateDir: string): { path: string } | { host: string; port: number } {
  if (vpcd === undefined) {
    const relay = relaySocketPath(stateDir, slot);
    return existsSync(relay) ? { path: relay } : { host: '127.0.0.1', port: VPCD_PORTS[slot] };
  }
  const m = /^([A-Za-z0-9.:[\]-]+):(\d{1,5})$/.exec(vpcd);
  if (m && !vpcd.startsWith('/')) return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
  return { path: vpcd };
}

const pidFile = (stateDir: string, slot: number) => join(stateDir, `card-slot${slot}.pid`);

/** `cardauth card tap`: a virtual card on the vsmartcard-vpcd reader (tests and the demo). */
export const cardTap: Command = {
  path: ['card', 'tap'],
  usage: '--uid HEX [--slot 0|1] [--hold | --hold-ms MS] [--vpcd HOST:PORT|SOCKET]',
  summary: 'tap a virtual card on the vpcd virtual reader (demo and tests): present it, then take it off',
  details: [
    '--uid HEX        the card UID the virtual card reports (4, 7 or 10 bytes as hex)',
    '--slot 0|1       the vpcd slot ("Virtual PCD 00 00" or "… 00 01"); default 0',
    '--hold-ms MS     how long the card stays on the reader; default 1500',
    '--hold           keep the card on the reader until `cardauth card remove` (or SIGTERM)',
    '--vpcd ADDR      vpcd as HOST:PORT or a Unix socket; default the demo relay in var/demo, else 127.0.0.1:3596x',
  ].join('\n'),
  options: { ...common, uid: { type: 'string' }, hold: { type: 'boolean' }, 'hold-ms': { type: 'string' } },
  async run(ctx, raw) {
    const args = checkValues(
      'card tap',
      z.object({
        uid: z.string({ error: (i) => (i.input === undefined ? 'required' : undefined) }).regex(/^[0-9A-Fa-f:\s-]{2,64}$/, 'must be hex digits'),
        slot: slotArg,
        vpcd: z.string().optional(),
        'state-dir': z.string().default(DEFAULT_STATE_DIR),
        hold: flag,
        'hold-ms': z.coerce.number().int().min(50).max(600_000).default(1500),
      }),
      raw.values,
    );
    const target = vpcdTarget(args.vpcd, args.slot, args['state-dir']);
    let card;
    try {
      card = await createVirtualCard({ ...target, uid: args.uid });
    } catch (err) {
      throw new CardauthError('unavailable', `cannot reach the virtual reader at ${'path' in target ? target.path : `${target.host}:${target.port}`} (is pcscd with vpcd running?)`, { cause: err });
    }
    ctx.io.stdout.write(`card ${card.uid} on slot ${args.slot}\n`);
    if (args.hold) {
      mkdirSync(args['state-dir'], { recursive: true });
      const file = pidFile(args['state-dir'], args.slot);
      writeFileSync(file, String(process.pid));
      const stop = ctx.io.stopSignal();
      await Promise.race([stop.signal, card.gone]);
      stop.cancel();
      rmSync(file, { force: true });
    } else {
      await Promise.race([new Promise((r) => setTimeout(r, args['hold-ms'])), card.gone]);
    }
    await card.remove();
    ctx.io.stdout.write(`card ${card.uid} removed\n`);
    return 0;
  },
};

/** `cardauth card remove`: takes a held virtual card off its reader. */
export const cardRemove: Command = {
  path: ['card', 'remove'],
  usage: '[--slot 0|1]',
  summary: 'take the virtual card held by `card tap --hold` off the reader',
  options: common,
  async run(ctx, raw) {
    const args = checkValues('card remove', z.object({ slot: slotArg, vpcd: z.string().optional(), 'state-dir': z.string().default(DEFAULT_STATE_DIR) }), raw.values);
    const file = pidFile(args['state-dir'], args.slot);
    let pid: number;
    try {
      pid = Number(readFileSync(file, 'utf8'));
    } catch {
      throw new CardauthError('card_not_found', `no card held on slot ${args.slot}`);
    }
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      rmSync(file, { force: true });
      throw new CardauthError('card_not_found', `no card held on slot ${args.slot}`);
    }
    ctx.io.stdout.write(`removing the card on slot ${args.slot}\n`);
    return 0;
  },
};
