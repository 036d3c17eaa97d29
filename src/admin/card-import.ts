import { createHash } from 'node:crypto';
import { CardauthError } from '../errors';
import { explain } from '../logger';
import type { Stores } from '../services';
import { normaliseLogin, type Account } from '../store/accounts';
import type { ManyFate, ManyInput } from '../store/cards';
import { parseCardCsv, type CsvLineProblem } from './card-csv';
import { authorize, targetOf } from './permissions';
import { appendAs, recordChange, type ChangedBy } from './record-change';

/** What became, or would become, of one line: `bind` / `already_bound` are fine, anything else stops the import. */
export type ImportFate = CsvLineProblem | 'unknown_login' | Exclude<ManyFate, 'account_not_found'>;

/** One line of the file and its fate. */
export interface ImportLine {
  line: number;
  login: string;
  uid: string;
  fate: ImportFate;
  /** Why, for a bad login, UID, label or line, or a duplicate. */
  detail?: string;
}

/** The outcome of an import or its dry run. */
export interface ImportReport {
  /** True when the cards were bound (never for a dry run, never with a bad line). */
  committed: boolean;
  /** Every line after the header, in file order. */
  lines: ImportLine[];
  /** How many lines had each fate. */
  counts: Partial<Record<ImportFate, number>>;
  /** SHA-256 of the file, hex: `details.sha256` of `card.imported`, `details.import` of each `card.bound`. */
  sha256: string;
}

/** Logins looked up at once. */
const LOOKUP_WAVE = 500;
/** `card.bound` records appended at once. */
const RECORD_WAVE = 1000;

/** Looks up each distinct login once: normalised login → account, or null. */
async function accountsOf(s: Pick<Stores, 'accounts'>, logins: readonly string[]): Promise<Map<string, Account | null>> {
  const found = new Map<string, Account | null>();
  const distinct = [...new Set(logins.map((l) => normaliseLogin(l)))];
  for (let i = 0; i < distinct.length; i += LOOKUP_WAVE) {
    const wave = distinct.slice(i, i + LOOKUP_WAVE);
    const accounts = await Promise.all(wave.map((l) => s.accounts.findByLogin(l)));
    wave.forEach((l, k) => found.set(l, accounts[k] ?? null));
  }
  return found;
}

/**
 * Bulk card import from a CSV file (login, uid, label; see parseCardCsv),
 * all or nothing. Every line's fate is worked out first; the cards are bound
 * only when no line is bad (a bad login, UID or label, an unknown login, a
 * duplicate in the file, a card bound to another account or revoked, an
 * account over its card limit) and it is not a dry run. The check and the
 * binding are one atomic script in Redis (CardStore.bindMany), so a card
 * bound or an account filled by someone else meanwhile is a bad line, never
 * half an import. Lines whose card is already bound to their account change
 * nothing, so the same file can be imported again.
 *
 * Audited only when it binds something: one `card.imported` (the file, its
 * SHA-256 and the counts), then one `card.bound` per card bound (with
 * `details.import` the file's SHA-256), so a card's own history (`audit list
 * --uid`) reads as if it had been bound alone. Run it once requireAuditTrail
 * has passed. The separation of duties is checked as for `card bind`, for
 * every account in the file (permissions.ts): one refused account refuses the
 * whole file, dry run or not (403 `forbidden`, audited `card.bound` failure).
 *
 * @example
 * const report = await createCardImport(stores)(by, { file: 'cards.csv', bytes, dryRun: true });
 */
export function createCardImport(s: Pick<Stores, 'accounts' | 'cards' | 'audit'>) {
  return async function importCards(by: ChangedBy, args: { file: string; bytes: Uint8Array; dryRun: boolean }): Promise<ImportReport> {
    const sha256 = createHash('sha256').update(args.bytes).digest('hex');
    const parsed = parseCardCsv(args.bytes);
    const accounts = await accountsOf(s, parsed.flatMap((l) => ('problem' in l ? [] : [l.login])));
    // The principal must be allowed to bind a card to every account the file names (a dry run too:
    // it answers whether the import would go through); the first refused one stops it, audited.
    await authorize(s.audit, by, 'card.bound');
    for (const account of accounts.values()) if (account) await authorize(s.audit, by, 'card.bound', targetOf(account));

    const lines: ImportLine[] = [];
    const many: Array<{ at: number; input: ManyInput; account: Account }> = [];
    for (const l of parsed) {
      if ('problem' in l) {
        lines.push({ line: l.line, login: l.login, uid: l.uid, fate: l.problem, detail: l.detail });
        continue;
      }
      const account = accounts.get(normaliseLogin(l.login));
      lines.push({ line: l.line, login: l.login, uid: l.uid, fate: account ? 'bind' : 'unknown_login' });
      if (account) many.push({ at: lines.length - 1, input: { uid: l.uid, accountId: account.id, label: l.label }, account });
    }
    const clean = lines.every((l) => l.fate === 'bind');
    const { committed, fates } = await s.cards.bindMany(
      many.map((m) => m.input),
      { by: by.actor, commit: clean && !args.dryRun },
    );
    fates.forEach((fate, k) => {
      (lines[(many[k] as (typeof many)[number]).at] as ImportLine).fate = fate === 'account_not_found' ? 'unknown_login' : fate;
    });
    const counts: Partial<Record<ImportFate, number>> = {};
    for (const l of lines) counts[l.fate] = (counts[l.fate] ?? 0) + 1;
    const report = { committed, lines, counts, sha256 };
    const bound = many.filter((_, k) => fates[k] === 'bind');
    if (!committed || bound.length === 0) return report;

    const done = `${bound.length} card(s) were bound from ${args.file}`;
    await recordChange(s.audit, by, { type: 'card.imported', outcome: 'success', details: { file: args.file, sha256, lines: lines.length, bound: bound.length, alreadyBound: counts.already_bound ?? 0 } }, done);
    // A wave at a time, appended together so that the log writes them in batches (group commit), in this order.
    const failed: unknown[] = [];
    for (let i = 0; i < bound.length; i += RECORD_WAVE) {
      const written = await Promise.allSettled(
        bound.slice(i, i + RECORD_WAVE).map((m) =>
          appendAs(s.audit, by, {
            type: 'card.bound',
            outcome: 'success',
            subject: { accountId: m.account.id, login: m.account.login },
            cardUid: m.input.uid,
            details: { ...(m.input.label ? { label: m.input.label } : {}), import: sha256 },
          }),
        ),
      );
      for (const w of written) if (w.status === 'rejected') failed.push(w.reason);
    }
    if (failed.length > 0) {
      throw new CardauthError('audit_unavailable', `${done}, but ${failed.length} of their card.bound records could not be written: ${explain(failed[0])}; record them by hand`);
    }
    return report;
  };
}

export type CardImport = ReturnType<typeof createCardImport>;
