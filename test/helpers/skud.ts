import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import type { TestServer } from './app';

// An access-control (СКУД) integration as a relay drives it: registered, signing
// statements of passes, POSTing them to /skud/events (docs/presence.md).

/** The statement's `typ` (docs/presence.md), as a relay spells it. */
const SKUD_TYP = 'cardauth-skud+jwt';

export interface Skud {
  id: string;
  privateKey: CryptoKey;
}

/** Registers an integration with a fresh Ed25519 key. */
export async function addSkud(srv: TestServer, name = 'Parsec'): Promise<Skud> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
  const i = await srv.services.skud.add({ name, publicJwk: await exportJWK(publicKey) });
  return { id: i.id, privateKey };
}

type Ev = { login: string; direction: string; time: string; door?: string };

/**
 * A statement as a relay signs it; `o` spoils one part of it for a refusal.
 *
 * @example
 * await send(srv, await statement(srv, skud, [{ login: 'ivanova', direction: 'entry', time: '2026-12-04T08:55:00+03:00' }]));
 */
export function statement(srv: TestServer, skud: Skud, events: Ev[], o: { aud?: string; kid?: string; typ?: string; key?: CryptoKey; lifetimeSec?: number } = {}): Promise<string> {
  const iat = Math.floor(srv.clock.now() / 1000);
  const kid = o.kid ?? skud.id;
  return new SignJWT({ events: events.map((e) => ({ door: 'Проходная 1', ...e })) })
    .setProtectedHeader({ alg: 'EdDSA', kid, typ: o.typ ?? SKUD_TYP })
    .setIssuer(kid)
    .setAudience(o.aud ?? `${srv.config.CARDAUTH_PUBLIC_ORIGIN}/skud`)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (o.lifetimeSec ?? 60))
    .setJti(randomUUID())
    .sign(o.key ?? skud.privateKey);
}

/** POSTs a statement as a relay does: no cookie, no Origin. */
export async function send(srv: TestServer, jws: unknown) {
  const res = await fetch(`${srv.url}/skud/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ statement: jws }) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, text };
}
