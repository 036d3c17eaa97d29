import { relative } from 'node:path';
import { z } from 'zod';
import { DEMO_ACCOUNTS, DEMO_CARDS } from './fixtures';
import type { RunningDemo } from './run';
import { CardauthError } from '../../src/errors';
import { checkValues } from '../../src/cli/args';
import type { Command } from '../../src/cli/command';

const port = (dflt: number) => z.coerce.number().int().min(1).max(65535).default(dflt);

/** A path for the terminal: relative to the current folder when inside it. */
const shown = (p: string) => {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith('..') ? r : p;
};

function banner(demo: RunningDemo, stateDirArg: string | undefined): string {
  const pad = (s: string, n: number) => s + ' '.repeat(Math.max(1, n - [...s].length));
  const cardOf = (login: string) => DEMO_CARDS.find((c) => c.login === login && c.state === 'active');
  const refused = DEMO_CARDS.filter((c) => c.state !== 'active');
  const tap = `npm run --silent dev -- card tap --uid ${DEMO_CARDS[0]?.uid ?? 'HEX'}${stateDirArg ? ` --state-dir ${stateDirArg}` : ''}`;
  const forwards = [demo.misUrl, demo.url, demo.agentUrl].map((u) => new URL(u).port).map((p) => `-L ${p}:127.0.0.1:${p}`);
  return [
    '',
    `Ready. Open ${demo.misUrl}/patients in a browser on this machine: a demo MIS that sends you to cardauth's`,
    '  login (OpenID Connect), where you tap a card and type the password; a second tap logs the MIS out.',
    `  cardauth's own pages: ${demo.url}/login`,
    `  The security officer's workbench: ${demo.url}/admin (log in as security: accounts, cards, workstations, sessions, lockouts)`,
    `  The auditor's pages: ${demo.url}/admin/audit (log in as auditor: the audit log, its integrity, a chart of logins)`,
    `  From another computer: ssh ${forwards.join(' ')} root@<this machine>, then open the same URLs there`,
    '  (the page talks to the card agent on the loopback address, as on a clinic workstation).',
    '',
    'Demo accounts (card + password):',
    `  ${pad('LOGIN', 10)}${pad('PASSWORD', 22)}${pad('ROLE', 18)}CARD`,
    ...DEMO_ACCOUNTS.map((a) => {
      const card = cardOf(a.login);
      return `  ${pad(a.login, 10)}${pad(a.password, 22)}${pad(a.roles.join(','), 18)}${card ? `${card.uid}  ${card.label}` : '-'}`;
    }),
    'Cards that are refused:',
    ...refused.map((c) => `  ${pad(c.uid, 16)}${c.label}`),
    '',
    'Tap a card with the buttons on the login page, or from a shell in this folder:',
    `  ${tap}`,
    `Administer: REDIS_URL=${demo.redisUrl} npx cardauth account list   (also: card list --login ivanova, agent list, audit verify)`,
    `Logs: ${shown(demo.logFile)}`,
    'Stop: Ctrl-C (stops the MIS, the agent, the server, the virtual reader and Redis; the data stays for the next run).',
    '',
  ].join('\n');
}

/**
 * `cardauth demo`: the whole system on this machine for a person to try —
 * Redis, a virtual card reader (pcscd + vpcd), demo accounts and cards, the
 * server in demo mode with its OpenID provider, the card agent, and a demo MIS
 * that signs in through OpenID Connect — until Ctrl-C. See dev/demo/run.ts.
 */
export const demo: Command = {
  path: ['demo'],
  usage: '[--port 8080] [--redis-port 6390] [--agent-port 47800] [--mis-port 8081] [--var DIR]',
  summary: 'run the whole system with a virtual card reader and demo accounts, for trying it out (root; until Ctrl-C)',
  details: [
    '--port N          the login server on 127.0.0.1:N; default 8080',
    '--redis-port N    the demo Redis on 127.0.0.1:N; default 6390',
    '--agent-port N    the card agent bridge on 127.0.0.1:N; default 47800',
    '--mis-port N      the demo MIS (examples/oidc-mis, an OpenID client) on 127.0.0.1:N; default 8081',
    '--var DIR         state folder: DIR/redis (data), DIR/demo (reader sockets, agent key, session secret, OpenID keys, MIS client secret, demo.log); default var',
    '',
    'Runs as root (pcscd runs in private mount and network namespaces). Idempotent: a second run',
    'reuses the data. Never in production: the demo passwords are public.',
  ].join('\n'),
  options: { port: { type: 'string' }, 'redis-port': { type: 'string' }, 'agent-port': { type: 'string' }, 'mis-port': { type: 'string' }, var: { type: 'string' } },
  async run(ctx, raw) {
    const args = checkValues(
      'demo',
      z.object({ port: port(8080), 'redis-port': port(6390), 'agent-port': port(47800), 'mis-port': port(8081), var: z.string().min(1).default('var') }),
      raw.values,
    );
    const out = ctx.io.stdout;
    const stop = ctx.io.stopSignal();
    const abort = new AbortController();
    let signalled = false;
    void stop.signal.then(() => {
      signalled = true;
      abort.abort();
    });
    out.write('cardauth demo: starting…\n');
    let running: RunningDemo;
    try {
      const { startDemo } = require('./run') as typeof import('./run');
      running = await startDemo({
        varDir: args.var,
        port: args.port,
        redisPort: args['redis-port'],
        agentPort: args['agent-port'],
        misPort: args['mis-port'],
        env: ctx.io.env,
        actor: ctx.actor,
        clock: ctx.clock,
        progress: (line) => out.write(`  ${line}\n`),
        signal: abort.signal,
      });
    } catch (err) {
      stop.cancel();
      if (signalled) {
        out.write('cardauth demo: stopped during start-up\n');
        return 0;
      }
      throw err;
    }
    if (!signalled) out.write(banner(running, args.var === 'var' ? undefined : `${args.var}/demo`));
    const outcome = signalled ? 'signal' : await Promise.race([stop.signal.then(() => 'signal'), running.died]);
    stop.cancel(); // from here a second Ctrl-C ends the process at once (the children die with it)
    out.write(`cardauth demo: ${outcome === 'signal' ? 'stopping' : `${outcome}; stopping everything`}\n`);
    await running.close();
    if (outcome !== 'signal') throw new CardauthError('unavailable', `demo stopped: ${outcome} (see ${shown(running.logFile)})`);
    out.write('cardauth demo: stopped\n');
    return 0;
  },
};
