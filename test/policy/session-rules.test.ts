import { loadServerConfig } from '../../src/config';
import { createSessionRules } from '../../src/policy/session-rules';

const BASE = { REDIS_URL: 'redis://127.0.0.1:6379', CARDAUTH_PUBLIC_ORIGIN: 'http://127.0.0.1:8080', CARDAUTH_SESSION_SECRET: 'a-session-secret-of-32-characters' };

describe('session rules by role', () => {
  it('defaults: a clinician one session, a privileged role two, the global idle lock and lifetime', () => {
    const rulesFor = createSessionRules(loadServerConfig(BASE));
    expect(rulesFor(['clinician'])).toEqual({ idleSec: 900, maxSec: 43_200, limit: 1 });
    for (const role of ['security_officer', 'auditor', 'chief_admin']) expect(rulesFor([role])).toEqual({ idleSec: 900, maxSec: 43_200, limit: 2 });
  });

  it('several roles: the strictest of each value, whichever role it comes from; no known role: the strictest of all', () => {
    const rulesFor = createSessionRules(
      loadServerConfig({ ...BASE, CARDAUTH_SESSION_LIMITS: 'chief_admin=3,clinician=5', CARDAUTH_SESSION_IDLE_SEC_BY_ROLE: 'clinician=120', CARDAUTH_SESSION_MAX_SEC_BY_ROLE: 'chief_admin=3600' }),
    );
    expect(rulesFor(['clinician', 'chief_admin'])).toEqual({ idleSec: 120, maxSec: 3600, limit: 3 });
    expect(rulesFor([])).toEqual({ idleSec: 120, maxSec: 3600, limit: 2 });
  });
});
