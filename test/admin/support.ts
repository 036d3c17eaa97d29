import type { ChangedBy } from '../../src/admin/record-change';

/** An officer acting from a page (not the command line), as the officer's pages will call the services. */
export const OFFICER: ChangedBy = {
  actor: 'acct:acc_00000000000000ff',
  via: { via: 'web', ip: '192.0.2.10' },
  principal: { accountId: 'acc_00000000000000ff', roles: ['security_officer'] },
};

/** What every record an officer's change writes carries: the officer, and the page's channel (never the CLI's). */
export const byOfficer = { actor: OFFICER.actor, details: expect.objectContaining({ via: 'web', ip: '192.0.2.10' }) };
