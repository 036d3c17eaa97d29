import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { createVirtualCard, VPCD_PORTS } from './vpcd-card';
import { writeWhole } from '../src/write-whole';
import { relaySocketPath } from './virtual-reader';
import { CardauthError } from '../src/errors';
import { checkValues, flag } from '../src/cli/args';
import type { Command } from '../src/cli/command';

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

/**
 * Writes the pid file whole or not at all: a temp file in the same folder,
 * then a rename, so `card remove` never reads it half-written (empty).
 */
function writePidFile(file: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeWhole(file, String(process.pid));
  } catch (err) {
    throw new CardauthError('config_invalid', `--state-dir: cannot write ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
}

/** Reads the pid file: its text, or undefined when there is none. */
function readPidFile(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Removes a stale pid file, unless a new `card tap --hold` replaced it meanwhile. */
function removeIfUnchanged(file: string, seen: string): void {
  if (readPidFile(file) === seen) rmSync(file, { force: true });
}

/** A pid as `card tap --hold` writes it: decimal digits, above 1 (0 and -1 would signal groups or everyone). */
function parsePid(text: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const pid = Number(text);
  return pid > 1 && pid <= 0x7fffffff ? pid : undefined;
}

/**
 * Whether `pid` is a `node … dev/cli.js … card tap` process (pids are reused;
 * `cardauth` too, the name these commands had in the shipped command line):
 * on Linux from /proc/PID/cmdline; where there is no /proc the pid is trusted.
 */
function cardTapProcess(pid: number): 'card tap' | 'other' | 'gone' {
  if (!existsSync('/proc/self/cmdline')) return 'card tap';
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return 'gone';
  }
  const bin = argv.findIndex((a) => /^cardauth(\.js)?$/.test(basename(a)) || /(^|\/)dev\/cli\.js$/.test(a));
  if (bin < 1 || !/^node/.test(basename(argv[0] ?? ''))) return 'other';
  const rest = argv.slice(bin + 1);
  const card = rest.indexOf('card');
  return card >= 0 && rest[card + 1] === 'tap' ? 'card tap' : 'other';
}

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
      const file = pidFile(args['state-dir'], args.slot);
      // Listening for SIGTERM before the pid file tells `card remove` whom to signal.
      const stop = ctx.io.stopSignal();
      try {
        writePidFile(file);
      } catch (err) {
        stop.cancel();
        await card.remove();
        throw err;
      }
      await Promise.race([stop.signal, card.gone]);
      stop.cancel();
      removeIfUnchanged(file, String(process.pid));
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
    const text = readPidFile(file);
    if (text === undefined) throw new CardauthError('card_not_found', `no card held on slot ${args.slot}`);
    const pid = parsePid(text);
    // A pid file that is not a pid, or names a process that is not `card tap` (gone, pid reused): stale.
    const stale = (why: string) => {
      removeIfUnchanged(file, text);
      return new CardauthError('card_not_found', `no card held on slot ${args.slot}: ${why}; removed the stale pid file ${file}`);
    };
    if (pid === undefined) throw stale('the pid file holds no valid pid');
    const holder = cardTapProcess(pid);
    if (holder !== 'card tap') throw stale(holder === 'gone' ? `process ${pid} is gone` : `process ${pid} is not \`cardauth card tap\``);
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      throw stale(`process ${pid} is gone`);
    }
    ctx.io.stdout.write(`removing the card on slot ${args.slot}\n`);
    return 0;
  },
};
