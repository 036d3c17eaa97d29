import type { Role } from '../../src/store/accounts';

/**
 * The demo's people and cards (`cardauth demo`). Demo data only: these
 * passwords are public, printed at start-up and in the README, and the demo
 * runs on loopback. Each password meets the default ИАФ.3 profile (at least
 * 12 characters from upper and lower case letters, digits and punctuation).
 */

/** One demo account. */
export interface DemoAccount {
  login: string;
  displayName: string;
  roles: Role[];
  password: string;
}

/** One demo card, as the login page's demo buttons show it. */
export interface DemoCard {
  /** 7-byte UID as uppercase hex. */
  uid: string;
  /** Button label, e.g. "Иванова (ЕКП)". */
  label: string;
  /**
   * - `active`: bound to `login`, passes the card step;
   * - `revoked`: bound to `login`, then reported lost: refused;
   * - `unknown`: bound to nobody: refused.
   */
  state: 'active' | 'revoked' | 'unknown';
  login?: string;
}

export const DEMO_ACCOUNTS: readonly DemoAccount[] = Object.freeze([
  { login: 'ivanova', displayName: 'Иванова Анна Петровна', roles: ['clinician'], password: 'Ivanova-Demo-2026!' },
  { login: 'petrov', displayName: 'Петров Сергей Иванович', roles: ['clinician'], password: 'Petrov-Demo-2026!' },
  { login: 'security', displayName: 'Смирнова Ольга (ИБ)', roles: ['security_officer'], password: 'Security-Demo-2026!' },
  { login: 'auditor', displayName: 'Козлов Дмитрий (аудит)', roles: ['auditor'], password: 'Auditor-Demo-2026!' },
]);

/** The account that binds the cards and approves the demo agent. */
export const DEMO_OFFICER = 'security';

export const DEMO_CARDS: readonly DemoCard[] = Object.freeze([
  { uid: '04A22BB25C6180', label: 'Иванова (ЕКП)', state: 'active', login: 'ivanova' },
  { uid: '04B3C4D5E6F701', label: 'Петров (ЕКП)', state: 'active', login: 'petrov' },
  { uid: '04E5F6A7B8C902', label: 'Смирнова, ИБ (ЕКП)', state: 'active', login: 'security' },
  { uid: '04F7A8B9CAD003', label: 'Козлов, аудит (ЕКП)', state: 'active', login: 'auditor' },
  { uid: '04C1D2E3F40511', label: 'Петров, старая карта (отозвана)', state: 'revoked', login: 'petrov' },
  { uid: '04998877665544', label: 'Чужая карта (не привязана)', state: 'unknown' },
]);

/** The demo workstation's name, as users and `cardauth agent list` see it. */
export const DEMO_WORKSTATION = 'Демо-станция';

/** The demo MIS (examples/oidc-mis) as the OpenID provider knows it. */
export const DEMO_CLIENT = Object.freeze({ id: 'demo-mis', name: 'МИС (демо)' });
