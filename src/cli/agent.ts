import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { createAgentAdmin } from '../admin/agents';
import { agentView, type AgentView } from '../admin/views';
import { isCardauthError } from '../errors';
import { validatePublicJwk } from '../store/agents';
import { agentIdPositional, checkValues, flag, requiredString, textArg, UsageError } from './args';
import { cliActor, type Command } from './command';
import { endedPhrase, printList, type Column } from './output';

const COLUMNS: Column<AgentView>[] = [
  { heading: 'ID', cell: (a) => a.id },
  { heading: 'NAME', cell: (a) => a.name },
  { heading: 'STATUS', cell: (a) => a.status },
  { heading: 'FINGERPRINT', cell: (a) => a.fingerprint },
  { heading: 'APPROVED', cell: (a) => (a.approvedAt ? `${a.approvedAt} ${a.approvedBy ?? ''}`.trim() : undefined) },
  { heading: 'REVOKED', cell: (a) => (a.revokedAt ? `${a.revokedAt} ${a.revokedBy ?? ''}`.trim() : undefined) },
];

const MAX_KEY_FILE = 16 * 1024;

/** Reads and checks a public JWK file (`agent register --public-key`, `skud add --jwk`); every problem names the option. */
export async function readPublicKey(cmd: string, file: string, option = 'public-key') {
  const bad = (why: string) => new UsageError(`${cmd}: --${option}: ${file}: ${why}`);
  let text: string;
  try {
    if (statSync(file).size > MAX_KEY_FILE) throw bad(`larger than ${MAX_KEY_FILE} bytes; expected one public JWK`);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw bad(`cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch {
    throw bad('not JSON; expected one public JWK such as {"kty":"OKP","crv":"Ed25519","x":"…"}');
  }
  try {
    return await validatePublicJwk(jwk);
  } catch (err) {
    if (isCardauthError(err, 'bad_request')) throw bad(err.message.replace(/^publicJwk: /, ''));
    throw err;
  }
}

/** `cardauth agent register`. */
export const agentRegister: Command = {
  path: ['agent', 'register'],
  usage: '--name WS --public-key FILE',
  summary: 'register a workstation agent (status pending); prints its fingerprint, then its id alone on the last line',
  details: [
    '--name WS           the workstation name shown to users, e.g. "Кабинет 12"',
    '--public-key FILE   the agent public key as a JWK: Ed25519 (OKP) or P-256 (EC); never the private key',
    '',
    'Compare the fingerprint (RFC 7638 JWK thumbprint) with the one the workstation shows,',
    'then run: cardauth agent approve ID',
  ].join('\n'),
  options: { name: { type: 'string' }, 'public-key': { type: 'string' } },
  async run(ctx, raw) {
    const cmd = 'agent register';
    const args = checkValues(cmd, z.object({ name: textArg('name', 64), 'public-key': requiredString().min(1, 'required') }), raw.values);
    const { jwk } = await readPublicKey(cmd, args['public-key']);
    return ctx.withChanges(async (s) => {
      const agent = await createAgentAdmin(s).register(cliActor(ctx), { name: args.name, publicJwk: jwk });
      ctx.io.stdout.write(`registered agent "${agent.name}", status ${agent.status}; approve it with: cardauth agent approve ${agent.id}\n`);
      ctx.io.stdout.write(`fingerprint: ${agent.fingerprint}\n`);
      ctx.io.stdout.write(`${agent.id}\n`);
      return 0;
    });
  },
};

/** `cardauth agent approve`. */
export const agentApprove: Command = {
  path: ['agent', 'approve'],
  usage: 'ID [--fingerprint FP]',
  summary: "approve a pending agent; from now on its card statements are trusted",
  details: [
    '--fingerprint FP   approve only if the agent key has this fingerprint (as the workstation shows it);',
    '                   write --fingerprint=FP when it starts with "-"',
  ].join('\n'),
  options: { fingerprint: { type: 'string' } },
  positionals: 1,
  async run(ctx, raw) {
    const cmd = 'agent approve';
    const id = agentIdPositional(cmd, raw.positionals);
    const args = checkValues(cmd, z.object({ fingerprint: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a base64url SHA-256 thumbprint (43 characters)').optional() }), raw.values);
    return ctx.withChanges(async (s) => {
      const agent = await createAgentAdmin(s).approve(cliActor(ctx), id, args);
      ctx.io.stdout.write(`approved agent ${agent.id} "${agent.name}" (fingerprint ${agent.fingerprint})\n`);
      return 0;
    });
  },
};

/** `cardauth agent revoke`. */
export const agentRevoke: Command = {
  path: ['agent', 'revoke'],
  usage: 'ID',
  summary: 'revoke an agent; its statements are refused from now on, and the sessions opened through it end',
  details: 'An agent that is already revoked is not revoked again, but the sessions opened through it are still ended (safe to repeat).',
  options: {},
  positionals: 1,
  async run(ctx, raw) {
    const id = agentIdPositional('agent revoke', raw.positionals);
    return ctx.withChanges(async (s) => {
      const { agent, already, ended } = await createAgentAdmin(s).revoke(cliActor(ctx), id);
      ctx.io.stdout.write(already ? `agent ${agent.id} "${agent.name}" was already revoked; ${endedPhrase(ended)}\n` : `revoked agent ${agent.id} "${agent.name}"; ${endedPhrase(ended)}\n`);
      return 0;
    });
  },
};

/** `cardauth agent unsuspend`. */
export const agentUnsuspend: Command = {
  path: ['agent', 'unsuspend'],
  usage: 'ID',
  summary: 'bring back an agent the abuse rule suspended (too many unknown or refused cards); its statements are trusted again',
  details: 'Only a suspended agent can be unsuspended; its refused-card count starts again (CARDAUTH_AGENT_REFUSALS).',
  options: {},
  positionals: 1,
  async run(ctx, raw) {
    const id = agentIdPositional('agent unsuspend', raw.positionals);
    return ctx.withChanges(async (s) => {
      const agent = await createAgentAdmin(s).unsuspend(cliActor(ctx), id);
      ctx.io.stdout.write(`unsuspended agent ${agent.id} "${agent.name}"; its status is ${agent.status}\n`);
      return 0;
    });
  },
};

/** `cardauth agent list`. */
export const agentList: Command = {
  path: ['agent', 'list'],
  usage: '[--json]',
  summary: 'list agents with their status and key fingerprint',
  options: { json: { type: 'boolean' } },
  async run(ctx, raw) {
    const args = checkValues('agent list', z.object({ json: flag }), raw.values);
    return ctx.withServices(async (s) => {
      printList(ctx.io.stdout, (await s.agents.list()).map(agentView), COLUMNS, { json: args.json, empty: 'no agents' });
      return 0;
    });
  },
};

export const agentCommands: readonly Command[] = [agentRegister, agentApprove, agentRevoke, agentUnsuspend, agentList];
