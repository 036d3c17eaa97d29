import type { JWK } from 'jose';
import type { AuditSink } from '../../src/audit/record';
import { CardauthError } from '../../src/errors';
import type { Account, AccountStore } from '../../src/store/accounts';
import type { Agent, AgentStore } from '../../src/store/agents';
import type { CardStore } from '../../src/store/cards';
import type { PasswordHasher } from '../../src/policy/password-hasher';
import { DEMO_ACCOUNTS, DEMO_CARDS, DEMO_OFFICER, DEMO_WORKSTATION } from './fixtures';

/** What {@link seedDemo} works on: the same stores the server and the CLI use. */
export interface SeedDeps {
  accounts: AccountStore;
  cards: CardStore;
  agents: AgentStore;
  audit: AuditSink;
  hasher: Pick<PasswordHasher, 'hash' | 'verify'>;
  /** Who runs the demo, for the audit of the first account (`os:root`). */
  actor: string;
}

/** The demo agent's public key, from its key folder. */
export interface DemoAgentKey {
  publicJwk: JWK;
  fingerprint: string;
  /** The id remembered from an earlier run, if any. */
  agentId?: string;
}

export interface SeedResult {
  /** What this run had to create or fix, e.g. `account ivanova`; empty when everything was there. */
  changes: string[];
  /** The demo agent, approved. */
  agent: Agent;
}

/**
 * Puts the demo data into Redis, idempotently: what is already there is
 * reused, what is missing is created, and every change is audited like the
 * CLI's (`details.via = 'demo'`). The security officer (`security`) binds the
 * cards and approves the agent, so the audit reads as it would in a clinic.
 *
 * - each demo account exists with its demo password (a changed one is reset,
 *   so the printed password always works);
 * - each `active` card is bound to its account; each `revoked` card is bound,
 *   then revoked as lost; `unknown` cards stay unbound;
 * - the demo agent's key is registered and approved (re-registered if Redis
 *   was wiped while the key folder stayed), and its workstation is seen at
 *   127.0.0.1, where the demo's browser presents its statements from (a
 *   workstation enrolling over HTTP gets this from its enrollment).
 *
 * Refuses with `agent_state` when the demo agent was revoked (delete its key
 * folder to get a new one).
 *
 * @example
 * const { changes, agent } = await seedDemo({ ...createStores({ redis, config, clock }), actor: osActor() }, identity);
 */
export async function seedDemo(deps: SeedDeps, agentKey: DemoAgentKey): Promise<SeedResult> {
  const { accounts, cards, agents, audit, hasher } = deps;
  const changes: string[] = [];
  const byLogin = new Map<string, Account>();
  let officerId: string | undefined;
  const via = { via: 'demo' } as const;

  // The officer first: it is the actor of everything after it.
  const ordered = [...DEMO_ACCOUNTS].sort((a, b) => Number(b.login === DEMO_OFFICER) - Number(a.login === DEMO_OFFICER));
  for (const a of ordered) {
    let account = await accounts.findByLogin(a.login);
    if (!account) {
      account = await accounts.create({ login: a.login, displayName: a.displayName, roles: a.roles, passwordHash: await hasher.hash(a.password) });
      await audit.append({
        type: 'account.created',
        outcome: 'success',
        actor: officerId ?? deps.actor,
        subject: { accountId: account.id, login: account.login },
        details: { roles: account.roles.join(','), ...via },
      });
      changes.push(`account ${a.login}`);
    } else if (!(await hasher.verify(account.passwordHash, a.password))) {
      account = await accounts.setPasswordHash(account.id, await hasher.hash(a.password));
      await audit.append({ type: 'password.reset', outcome: 'success', actor: officerId ?? deps.actor, subject: { accountId: account.id, login: account.login }, details: via });
      changes.push(`password of ${a.login}`);
    }
    byLogin.set(a.login, account);
    if (a.login === DEMO_OFFICER) officerId = account.id;
  }
  const by = officerId as string;

  for (const c of DEMO_CARDS) {
    if (c.state === 'unknown' || !c.login) continue;
    const account = byLogin.get(c.login) as Account;
    const subject = { accountId: account.id, login: account.login };
    let binding = await cards.get(c.uid);
    if (!binding) {
      binding = await cards.bind({ uid: c.uid, accountId: account.id, label: c.label, by });
      await audit.append({ type: 'card.bound', outcome: 'success', actor: by, subject, cardUid: binding.uid, details: { label: c.label, ...via } });
      changes.push(`card ${c.uid}`);
    }
    if (c.state === 'revoked' && binding.status === 'active') {
      await cards.revoke({ uid: c.uid, reason: 'lost', by });
      await audit.append({ type: 'card.revoked', outcome: 'success', reason: 'lost', actor: by, subject, cardUid: binding.uid, details: via });
      changes.push(`revocation of ${c.uid}`);
    }
  }

  let agent = agentKey.agentId ? await agents.get(agentKey.agentId) : null;
  if (agent?.fingerprint !== agentKey.fingerprint) agent = (await agents.list()).find((x) => x.fingerprint === agentKey.fingerprint) ?? null;
  if (!agent) {
    agent = await agents.register({ name: DEMO_WORKSTATION, publicJwk: agentKey.publicJwk });
    await audit.append({
      type: 'agent.registered',
      outcome: 'success',
      actor: by,
      source: { agentId: agent.id, workstation: agent.name },
      details: { fingerprint: agent.fingerprint, alg: agent.alg, ...via },
    });
    changes.push(`agent ${agent.id}`);
  }
  if (agent.status === 'revoked') {
    throw new CardauthError('agent_state', `the demo agent ${agent.id} was revoked; delete its key folder to enroll a new one`);
  }
  if (agent.status === 'pending') {
    agent = await agents.approve(agent.id, by);
    await audit.append({ type: 'agent.approved', outcome: 'success', actor: by, source: { agentId: agent.id, workstation: agent.name }, details: { fingerprint: agent.fingerprint, ...via } });
    changes.push(`approval of ${agent.id}`);
  }
  await agents.recordSeen(agent.id, '127.0.0.1');
  return { changes, agent };
}
