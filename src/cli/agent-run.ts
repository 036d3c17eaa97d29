import { z } from 'zod';
import { loadAgentConfig, loadAgentConfigSubset } from '../config';
import { CardauthError, isCardauthError } from '../errors';
import { createJsonLogger } from '../logger';
import { loadOrCreateIdentity, saveEnrollment, startOverHint } from '../card-agent/keystore';
import { startAgent } from '../card-agent/main';
import { createServerClient } from '../card-agent/server-client';
import { checkValues, requiredString, textArg } from './args';
import type { Command } from './command';

/** `cardauth agent run`: the workstation card agent, until SIGTERM/SIGINT. */
export const agentRun: Command = {
  path: ['agent', 'run'],
  usage: '',
  summary: 'run the workstation card agent (PC/SC readers + loopback bridge) until SIGTERM/SIGINT',
  details: 'Needs CARDAUTH_AGENT_ORIGINS and CARDAUTH_AGENT_SERVER; see `cardauth config table`. Logs are JSON lines on stdout.',
  options: {},
  async run(ctx) {
    const config = loadAgentConfig(ctx.io.env, ctx.configFile);
    const logger = createJsonLogger(ctx.io.stdout, () => ctx.clock.now());
    const stop = ctx.io.stopSignal();
    let agent;
    try {
      agent = await startAgent({ config, logger, clock: ctx.clock });
    } catch (err) {
      stop.cancel();
      throw err;
    }
    const signal = await stop.signal;
    logger.info('stopping', { signal });
    await agent.close();
    return 0;
  },
};

const serverUrl = requiredString().transform((v, c) => {
  try {
    const u = new URL(v);
    if (u.protocol === 'http:' || u.protocol === 'https:') return u.origin;
  } catch {
    // fall through
  }
  c.addIssue({ code: 'custom', message: 'must be the server URL, e.g. https://mis.example.ru' });
  return z.NEVER;
});

/** `cardauth agent enroll`: sends this workstation's public key to the server as a pending agent. */
export const agentEnroll: Command = {
  path: ['agent', 'enroll'],
  usage: '--server URL --name WORKSTATION',
  summary: "send this workstation agent's public key to the server (pending until an officer approves); prints the fingerprint",
  details: [
    '--server URL          the cardauth server, e.g. https://mis.example.ru',
    '--name WORKSTATION    the workstation name users will see, e.g. "Кабинет 12"',
    '',
    'Creates the key on first use (in CARDAUTH_AGENT_DIR, mode 0600). Read the fingerprint to the',
    'security officer: `cardauth agent list` on the server shows the same one before `agent approve`.',
  ].join('\n'),
  options: { server: { type: 'string' }, name: { type: 'string' } },
  async run(ctx, raw) {
    const args = checkValues('agent enroll', z.object({ server: serverUrl, name: textArg('name', 64) }), raw.values);
    const { CARDAUTH_AGENT_DIR: dir } = loadAgentConfigSubset(['CARDAUTH_AGENT_DIR'], ctx.io.env, ctx.configFile);
    const identity = await loadOrCreateIdentity(dir);
    // The server knows an agent by its key: enrolling again means a new key, so both files go.
    if (identity.agentId && identity.server === args.server) {
      throw new CardauthError('agent_state', `already enrolled with ${args.server} as ${identity.agentId}; fingerprint ${identity.fingerprint}; ${startOverHint(dir)}`);
    }
    let enrolled;
    try {
      enrolled = await createServerClient(args.server).enroll(args.name, identity.publicJwk);
    } catch (err) {
      if (!isCardauthError(err, 'agent_state')) throw err;
      throw new CardauthError('agent_state', `${err.message}; ${startOverHint(dir)}`, { cause: err });
    }
    saveEnrollment(dir, { agentId: enrolled.id, server: args.server });
    ctx.io.stdout.write(`enrolled "${args.name}" with ${args.server} as ${enrolled.id}, status ${enrolled.status}\n`);
    ctx.io.stdout.write(`fingerprint: ${identity.fingerprint}\n`);
    ctx.io.stdout.write('ask the security officer to compare it in `cardauth agent list`, then run `cardauth agent approve ID`\n');
    return 0;
  },
};
