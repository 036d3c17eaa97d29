import type { Section } from '../lib/types';
import { argon2LibsSection } from './argon2-libs';
import { loginThroughputSection } from './login-throughput';
import { sessionReadSection } from './session-read';
import { loginRssSection } from './login-rss';
import { auditAppendSection } from './audit-append';
import { auditDurabilitySection } from './audit-durability';
import { auditVerifySection } from './audit-verify';
import { auditQuerySection } from './audit-query';
import { agentSection } from './agent';
import { oidcSection } from './oidc';
import { workbenchSection } from './workbench';

/**
 * The sections, in run order. Each starts and stops what it needs (its own
 * redis-server, its own server children), so any subset can run alone
 * (`--only=login,session`). Add a section by writing a `Section` in this
 * folder and listing it here.
 */
export const SECTIONS: Section[] = [argon2LibsSection, loginThroughputSection, sessionReadSection, oidcSection, loginRssSection, auditAppendSection, auditDurabilitySection, auditVerifySection, auditQuerySection, agentSection, workbenchSection];
