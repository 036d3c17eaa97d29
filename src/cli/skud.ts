import { z } from 'zod';
import type { SkudIntegration } from '../presence/integrations';
import { createAccountGateAdmin } from '../presence/account-gate';
import { createSkudAdmin } from '../presence/skud-admin';
import { createPresenceStatus, type IntegrationStatus } from '../presence/status';
import { readPublicKey } from './agent';
import { checkValues, flag, loginArg, requiredString, textArg } from './args';
import { cliActor, type Command } from './command';
import { isoTime, printList, type Column } from './output';

const idArg = requiredString().regex(/^sk_[0-9a-f]{16}$/, 'an integration id such as sk_0123456789abcdef');

/** `cardauth skud add`. */
export const skudAdd: Command = {
  path: ['skud', 'add'],
  usage: '--name NAME --jwk FILE',
  summary: 'register an access-control system (СКУД) by its public key; its signed statements reach POST /skud/events (docs/presence.md); prints its id alone on the last line',
  details: [
    '--name NAME   shown to officers, e.g. "Parsec, корпус 1"',
    '--jwk FILE    the relay\'s public key as a JWK: Ed25519 (OKP) or P-256 (EC); never the private key',
    'The relay signs each statement with kid and iss = the id printed here.',
  ].join('\n'),
  options: { name: { type: 'string' }, jwk: { type: 'string' } },
  async run(ctx, raw) {
    const cmd = 'skud add';
    const args = checkValues(cmd, z.object({ name: textArg('name', 64), jwk: requiredString().min(1, 'required') }), raw.values);
    const { jwk } = await readPublicKey(cmd, args.jwk, 'jwk');
    return ctx.withChanges(async (s) => {
      const i = await createSkudAdmin(s).add(cliActor(ctx), { name: args.name, publicJwk: jwk });
      ctx.io.stdout.write(`added integration "${i.name}" (${i.alg}, fingerprint ${i.fingerprint})\n${i.id}\n`);
      return 0;
    });
  },
};

const COLUMNS: Column<SkudIntegration>[] = [
  { heading: 'ID', cell: (i) => i.id },
  { heading: 'NAME', cell: (i) => i.name },
  { heading: 'ALG', cell: (i) => i.alg },
  { heading: 'FINGERPRINT', cell: (i) => i.fingerprint },
  { heading: 'ADDED', cell: (i) => isoTime(i.createdAt) },
];

/** `cardauth skud list`. */
export const skudList: Command = {
  path: ['skud', 'list'],
  usage: '[--json]',
  summary: 'list the registered access-control integrations',
  options: { json: { type: 'boolean' } },
  async run(ctx, raw) {
    const args = checkValues('skud list', z.object({ json: flag }), raw.values);
    return ctx.withServices(async (s) => {
      printList(ctx.io.stdout, await s.skud.list(), COLUMNS, { json: args.json, empty: 'no integrations' });
      return 0;
    });
  },
};

/** `cardauth skud remove`. */
export const skudRemove: Command = {
  path: ['skud', 'remove'],
  usage: '--id ID',
  summary: "remove an access-control integration; its statements are refused from now on",
  options: { id: { type: 'string' } },
  async run(ctx, raw) {
    const args = checkValues('skud remove', z.object({ id: idArg }), raw.values);
    return ctx.withChanges(async (s) => {
      const i = await createSkudAdmin(s).remove(cliActor(ctx), args.id);
      ctx.io.stdout.write(`removed integration ${i.id} "${i.name}"\n`);
      return 0;
    });
  },
};

const STATUS_COLUMNS: Column<IntegrationStatus>[] = [
  { heading: 'ID', cell: (i) => i.id },
  { heading: 'NAME', cell: (i) => i.name },
  { heading: 'LAST STATEMENT', cell: (i) => i.lastStatementAt ?? 'never' },
  { heading: 'LAST EVENT', cell: (i) => i.lastEventAt ?? 'never' },
  { heading: 'SILENT', cell: (i) => (i.silent ? 'yes' : 'no') },
  { heading: 'EVENTS TODAY', cell: (i) => String(i.eventsToday) },
];

/** `cardauth skud status`. */
export const skudStatus: Command = {
  path: ['skud', 'status'],
  usage: '[--json]',
  summary: 'the presence feed: the policy in force and, per integration, its last statement and event, whether it is silent, its events today (Moscow day)',
  options: { json: { type: 'boolean' } },
  async run(ctx, raw) {
    const args = checkValues('skud status', z.object({ json: flag }), raw.values);
    return ctx.withServices(async (s) => {
      const status = await createPresenceStatus({ skud: s.skud, policy: s.presencePolicy, now: () => ctx.clock.now() })();
      if (args.json) {
        ctx.io.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
        return 0;
      }
      const p = status.policy;
      ctx.io.stdout.write(`presence gate: ${p.gate}${p.roles.length ? ` (roles ${p.roles.join(', ')})` : ''}; silent after ${p.silentSec} s, then ${p.onSilent}; today ${status.today}\n`);
      printList(ctx.io.stdout, status.integrations, STATUS_COLUMNS, { json: false, empty: 'no integrations' });
      return 0;
    });
  },
};

/** `cardauth skud account`. */
export const skudAccount: Command = {
  path: ['skud', 'account'],
  usage: '--login L --gate on|off',
  summary: "gate one account's logins by presence whatever its roles (on), or stop (off); audited account.presence_changed",
  options: { login: { type: 'string' }, gate: { type: 'string' } },
  async run(ctx, raw) {
    const args = checkValues('skud account', z.object({ login: loginArg, gate: z.enum(['on', 'off'], { error: 'must be on or off' }) }), raw.values);
    return ctx.withChanges(async (s) => {
      const { account, changed } = await createAccountGateAdmin(s).set(cliActor(ctx), { login: args.login, required: args.gate === 'on' });
      ctx.io.stdout.write(changed ? `presence gate of ${account.login}: ${args.gate}\n` : `presence gate of ${account.login} is ${args.gate} already; nothing was changed\n`);
      return 0;
    });
  },
};

export const skudCommands: readonly Command[] = [skudAdd, skudList, skudRemove, skudStatus, skudAccount];
