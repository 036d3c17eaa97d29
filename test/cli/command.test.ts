import type { AuditLog } from '../../src/audit/log';
import type { AuditEventInput } from '../../src/audit/record';
import { requireAuditTrail } from '../../src/admin/record-change';
import { auditChange, type CommandContext } from '../../src/cli/command';
import { CardauthError } from '../../src/errors';

/** Pure logic of the two audit steps of a change, with a plain fake audit log. */

const down = () => new CardauthError('audit_unavailable', 'audit write failed', { cause: new Error('Connection is closed.') });

function fakeAudit(opts: { head?: 'ok' | 'fails'; append?: 'ok' | 'fails' } = {}) {
  const appended: AuditEventInput[] = [];
  const audit: AuditLog = {
    async head() {
      if (opts.head === 'fails') throw new CardauthError('audit_unavailable', 'audit read failed', { cause: new Error('WRONGTYPE Operation against a key holding the wrong kind of value') });
      return { seq: 7, hash: 'a'.repeat(64) };
    },
    async append(input) {
      if (opts.append === 'fails') throw down();
      appended.push(input);
      return {} as Awaited<ReturnType<AuditLog['append']>>;
    },
  };
  return { audit, appended };
}

const ctx = { actor: 'os:officer' } as CommandContext;
const unlocked: Omit<AuditEventInput, 'actor'> = { type: 'account.unlocked', outcome: 'success', subject: { accountId: 'acc_0123456789abcdef' } };

describe('requireAuditTrail (before a change)', () => {
  it('success: a readable trail lets the change go ahead', async () => {
    await expect(requireAuditTrail(fakeAudit().audit)).resolves.toBeUndefined();
  });

  it('error: an unreadable trail refuses with audit_unavailable, saying nothing was changed and why', async () => {
    const err = await requireAuditTrail(fakeAudit({ head: 'fails' }).audit).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CardauthError);
    expect(err).toMatchObject({ code: 'audit_unavailable' });
    expect((err as Error).message).toMatch(/^nothing was changed: the audit trail is not usable \(audit read failed \(Error: WRONGTYPE /);
  });
});

describe('auditChange (after a change)', () => {
  it('success: appends the record with the operator as actor, marked as from the CLI', async () => {
    const { audit, appended } = fakeAudit();
    await auditChange(ctx, { audit }, unlocked, 'account acc_0123456789abcdef was unlocked');
    expect(appended).toEqual([{ ...unlocked, actor: 'os:officer', details: { via: 'cli', host: expect.any(String) } }]);
  });

  it('error: a trail that fails between the check and the append says the change stands, to be recorded by hand', async () => {
    const { audit } = fakeAudit({ append: 'fails' });
    await requireAuditTrail(audit);
    const err = await auditChange(ctx, { audit }, unlocked, 'account acc_0123456789abcdef was unlocked').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'audit_unavailable' });
    expect((err as Error).message).toBe(
      'account acc_0123456789abcdef was unlocked, but its audit record (account.unlocked) could not be written: audit write failed (Error: Connection is closed.); record it by hand',
    );
  });
});
