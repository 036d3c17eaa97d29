import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { AuditSink } from '../../src/audit/record';
import type { Clock } from '../../src/clock';
import type { ClientStore, ClientView } from '../../src/oidc/clients';
import { DEMO_CLIENT } from './fixtures';

export interface DemoClientDeps {
  clients: ClientStore;
  audit: AuditSink;
  /** Who runs the demo (`os:root`). */
  actor: string;
  clock: Clock;
}

/** The demo MIS's URIs under its origin: the callback, the post-logout page, the back-channel logout endpoint. */
export function demoClientUris(misOrigin: string) {
  return {
    redirectUris: [`${misOrigin}/callback`],
    postLogoutRedirectUris: [`${misOrigin}/logged-out`],
    backchannelLogoutUri: `${misOrigin}/backchannel-logout`,
  };
}

const sameUris = (c: ClientView, want: ReturnType<typeof demoClientUris>) =>
  c.redirectUris.join(' ') === want.redirectUris.join(' ') && c.postLogoutRedirectUris.join(' ') === want.postLogoutRedirectUris.join(' ') && c.backchannelLogoutUri === want.backchannelLogoutUri;

const auditDetails = (c: ClientView) => ({ clientId: c.id, name: c.name, public: c.public, redirectUris: c.redirectUris.join(' '), via: 'demo' });

/**
 * Registers the demo MIS (examples/oidc-mis) with the OpenID provider, idempotently, as a
 * confidential client with its URIs on `misOrigin`; its secret is kept 0600 in `secretFile` for
 * the next run. A client registered for another origin (another --mis-port) is registered anew;
 * one whose secret file is gone gets a new secret. Each change is audited as the CLI's
 * (`details.via = 'demo'`).
 *
 * @example
 * const { secret, changes } = await seedDemoClient({ clients, audit, actor: 'os:root', clock }, 'http://127.0.0.1:8081', 'var/demo/mis-client-secret');
 */
export async function seedDemoClient(deps: DemoClientDeps, misOrigin: string, secretFile: string): Promise<{ secret: string; changes: string[] }> {
  const { clients, audit, actor, clock } = deps;
  const want = demoClientUris(misOrigin);
  const changes: string[] = [];
  const kept = existsSync(secretFile) ? readFileSync(secretFile, 'utf8').trim() : '';
  let existing = await clients.get(DEMO_CLIENT.id);
  if (existing && (existing.public || !sameUris(existing, want))) {
    await clients.remove(existing.id);
    await audit.append({ type: 'oidc.client_removed', outcome: 'success', actor, details: auditDetails(existing) });
    existing = undefined;
  }
  let secret = kept;
  if (!existing) {
    const added = await clients.add({ id: DEMO_CLIENT.id, name: DEMO_CLIENT.name, ...want, public: false }, clock.now());
    await audit.append({ type: 'oidc.client_added', outcome: 'success', actor, details: auditDetails(added.client) });
    secret = added.secret!;
    changes.push(`client ${DEMO_CLIENT.id}`);
  } else if (!kept) {
    secret = (await clients.rotateSecret(existing.id)).secret;
    await audit.append({ type: 'oidc.client_secret_rotated', outcome: 'success', actor, details: auditDetails(existing) });
    changes.push(`secret of ${DEMO_CLIENT.id}`);
  }
  if (secret !== kept) writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
  return { secret, changes };
}
