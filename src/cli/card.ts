import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { accountByLogin } from '../admin/accounts';
import { CARD_CSV_MAX_BYTES } from '../admin/card-csv';
import { createCardImport, type ImportLine, type ImportReport } from '../admin/card-import';
import { createCardAdmin } from '../admin/cards';
import { cardView, type CardView } from '../admin/views';
import type { Uid } from '../contract/uid';
import { REVOKE_REASONS, type CardBinding } from '../store/cards';
import { checkValues, flag, loginArg, revokeReasonArg, textArg, timeArg, uidArg, UsageError } from './args';
import { cliActor, type Command } from './command';
import type { CliServices } from './services';
import { endedPhrase, isoTime, printList, table, terminalSafeJson, type Column } from './output';


const COLUMNS: Column<CardView>[] = [
  { heading: 'UID', cell: (c) => c.uid },
  { heading: 'STATUS', cell: (c) => c.status },
  { heading: 'LABEL', cell: (c) => c.label },
  { heading: 'BOUND', cell: (c) => c.boundAt },
  { heading: 'BY', cell: (c) => c.boundBy },
  { heading: 'EXPIRES', cell: (c) => c.expiresAt ?? undefined },
  { heading: 'REVOKED', cell: (c) => (c.revokedAt ? `${c.revokedAt} ${c.revokeReason ?? ''} ${c.revokedBy ?? ''}`.trim() : undefined) },
];

/** What bind and replace take for the new card, besides whose it is. */
const NEW_CARD = {
  uid: uidArg,
  label: textArg('label', 64, { allowEmpty: true }).optional(),
  'reissue-reason': textArg('reissue-reason', 256).optional(),
  expires: timeArg.optional(),
};
const NEW_CARD_OPTIONS = { uid: { type: 'string' }, label: { type: 'string' }, 'reissue-reason': { type: 'string' }, expires: { type: 'string' } } as const;
const NEW_CARD_DETAILS = [
  '--uid HEX                 the card UID: 4, 7 or 10 bytes of hex (spaces, colons, dashes allowed); not a random 08xxxxxx UID',
  '--label T                 a note for officers, e.g. "ЕКП" or "запасная"',
  '--reissue-reason TEXT     required to bind a revoked card again; recorded as card.reissued',
  '--expires DATE            the binding expires then (a date is 00:00 UTC of that day, or a time with its offset, e.g. 2027-01-01T00:00+03:00); from then on the card is refused like a revoked one',
];
const newCardOf = (a: { uid: Uid; label?: string | undefined; 'reissue-reason'?: string | undefined; expires?: number | undefined }) => ({
  uid: a.uid,
  label: a.label,
  reissueReason: a['reissue-reason'],
  expiresAt: a.expires,
});
const expiresNote = (b: CardBinding) => (b.expiresAt !== undefined ? `, expires ${isoTime(b.expiresAt) ?? ''}` : '');

const BindArgs = z.object({ login: loginArg, ...NEW_CARD });

/** `cardauth card bind`. */
export const cardBind: Command = {
  path: ['card', 'bind'],
  usage: '--login L --uid HEX [--label T] [--reissue-reason TEXT] [--expires DATE]',
  summary: "bind a card to an account's allow-list",
  details: ['--login L                 the account', ...NEW_CARD_DETAILS].join('\n'),
  options: { login: { type: 'string' }, ...NEW_CARD_OPTIONS },
  async run(ctx, raw) {
    const args = checkValues('card bind', BindArgs, raw.values);
    return ctx.withChanges(async (s) => {
      const reissueReason = args['reissue-reason'];
      const { account, binding, reissued } = await createCardAdmin(s).bind(cliActor(ctx), { login: args.login, ...newCardOf(args) });
      const note = reissueReason !== undefined && !reissued ? ' (it was not revoked, so --reissue-reason was not needed)' : '';
      ctx.io.stdout.write(`${reissued ? 're-issued' : 'bound'} card ${binding.uid} to ${account.login} (${account.id})${expiresNote(binding)}${note}\n`);
      return 0;
    });
  },
};

/** What revoke and lost print: `done`, or that the card was revoked already, and the sessions ended. */
const revokedLine = (b: CardBinding, already: boolean, ended: number, done: string) =>
  `${already ? `card ${b.uid} of ${b.accountId} was already revoked (${b.revokeReason ?? 'other'})` : done}; ${endedPhrase(ended)}\n`;

/** `cardauth card revoke`. */
export const cardRevoke: Command = {
  path: ['card', 'revoke'],
  usage: `--uid HEX --reason ${REVOKE_REASONS.join('|')}`,
  summary: 'revoke a card; it stops passing the card step at once, and its open sessions end',
  details: 'A card that is already revoked is not revoked again, but its open sessions are still ended (safe to repeat).',
  options: { uid: { type: 'string' }, reason: { type: 'string' } },
  async run(ctx, raw) {
    const args = checkValues('card revoke', z.object({ uid: uidArg, reason: revokeReasonArg }), raw.values);
    return ctx.withChanges(async (s) => {
      const { binding, already, ended } = await createCardAdmin(s).revoke(cliActor(ctx), args);
      ctx.io.stdout.write(revokedLine(binding, already, ended, `revoked card ${binding.uid} of ${binding.accountId} (${args.reason})`));
      return 0;
    });
  },
};

/** `cardauth card replace`. */
export const cardReplace: Command = {
  path: ['card', 'replace'],
  usage: '--old HEX --uid HEX [--label T] [--reissue-reason TEXT] [--expires DATE]',
  summary: "replace an account's card by a new one in one step: the old one revoked (replaced), the new one bound; its open sessions end",
  details: [
    '--old HEX                 the card being replaced (active or expired); its account gets the new one',
    ...NEW_CARD_DETAILS,
    'Never both cards active, never neither; the card limit does not apply, since one card takes the place of another.',
    'Should the old card\'s sessions fail to end (Redis lost after the change), card revoke --uid OLD ends them.',
  ].join('\n'),
  options: { old: { type: 'string' }, ...NEW_CARD_OPTIONS },
  async run(ctx, raw) {
    const args = checkValues('card replace', z.object({ old: uidArg, ...NEW_CARD }), raw.values);
    return ctx.withChanges(async (s) => {
      const { old, binding, ended } = await createCardAdmin(s).replace(cliActor(ctx), { oldUid: args.old, ...newCardOf(args) });
      ctx.io.stdout.write(`replaced card ${old.uid} of ${binding.accountId} by ${binding.uid}${expiresNote(binding)}; ${endedPhrase(ended)}\n`);
      return 0;
    });
  },
};

/** `cardauth card lost`. */
export const cardLost: Command = {
  path: ['card', 'lost'],
  usage: '--uid HEX | --login L',
  summary: 'report a card lost: it is revoked (lost) and every session opened with it ends at once, on every node',
  details: [
    '--uid HEX                 the lost card',
    '--login L                 or the account whose one card (not revoked) was lost; with several, name it with --uid',
    'Safe to repeat: a card already revoked only has its sessions ended.',
  ].join('\n'),
  options: { uid: { type: 'string' }, login: { type: 'string' } },
  async run(ctx, raw) {
    const args = checkValues('card lost', z.object({ uid: uidArg.optional(), login: loginArg.optional() }), raw.values);
    if ((args.uid === undefined) === (args.login === undefined)) throw new UsageError('card lost: give --uid HEX or --login L (one of them)');
    const which = args.uid !== undefined ? { uid: args.uid } : { login: args.login as string };
    return ctx.withChanges(async (s) => {
      const { binding, already, ended } = await createCardAdmin(s).lost(cliActor(ctx), which);
      ctx.io.stdout.write(revokedLine(binding, already, ended, `card ${binding.uid} of ${binding.accountId} reported lost and revoked`));
      return 0;
    });
  },
};

/** `cardauth card unlock`. */
export const cardUnlock: Command = {
  path: ['card', 'unlock'],
  usage: '--uid HEX',
  summary: "clear a card's failed password attempts, ending its lock if it is locked",
  details: [
    '--uid HEX   the card',
    '',
    'Clears the failed attempts counted against the card (CARDAUTH_CARD_LOCKOUT_*), so its card',
    'steps pass at once; audited as card.unlocked with the count and the time the lock had left.',
    "The card's account keeps its own count (account unlock). A card of an account that holds",
    'security_officer, auditor or chief_admin is unlocked only by a chief_admin.',
  ].join('\n'),
  options: { uid: { type: 'string' } },
  async run(ctx, raw) {
    const args = checkValues('card unlock', z.object({ uid: uidArg }), raw.values);
    return ctx.withChanges(async (s) => {
      const { binding, failures } = await createCardAdmin(s).unlock(cliActor(ctx), args.uid);
      ctx.io.stdout.write(
        failures === 0
          ? `card ${binding.uid} has no failed attempts counted; nothing was changed\n`
          : `unlocked card ${binding.uid} of ${binding.accountId}: ${failures} failed attempt${failures === 1 ? '' : 's'} cleared\n`,
      );
      return 0;
    });
  },
};

const IMPORT_COLUMNS: Column<ImportLine>[] = [
  { heading: 'LINE', cell: (l) => String(l.line) },
  { heading: 'LOGIN', cell: (l) => l.login },
  { heading: 'UID', cell: (l) => l.uid },
  { heading: 'FATE', cell: (l) => l.fate },
  { heading: 'DETAIL', cell: (l) => l.detail },
];

/** `bind: 3, already_bound: 1`: the counts of a report. */
const countsOf = (r: ImportReport) => Object.entries(r.counts).map(([fate, n]) => `${fate}: ${n}`).join(', ') || 'no lines';

/** Reads the import file whole (it is bounded); a file that cannot be read is a usage error naming it. */
function readImportFile(file: string): Buffer {
  const bad = (why: string) => new UsageError(`card import: ${file}: ${why}`);
  try {
    if (!statSync(file).isFile()) throw bad('not a file');
    if (statSync(file).size > CARD_CSV_MAX_BYTES) throw bad(`larger than ${CARD_CSV_MAX_BYTES / 1024 / 1024} MB; split it`);
    return readFileSync(file);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw bad(`cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** `cardauth card import`. */
export const cardImport: Command = {
  path: ['card', 'import'],
  usage: 'FILE [--dry-run] [--json]',
  summary: 'bind many cards from a CSV file (login, uid, label), all or nothing',
  details: [
    'FILE          CSV, UTF-8: a header line naming login, uid and optionally label, then one card per line; cells separated by , or ;',
    '--dry-run     report each line\'s fate and change nothing',
    '--json        the report as JSON: {committed, counts, sha256, lines: [{line, login, uid, fate, detail?}]}',
    'Fates: bind, already_bound (nothing to do), and the ones that stop the import: bad_line, bad_login, bad_uid, bad_label,',
    'duplicate_in_file, unknown_login, bound_elsewhere, revoked_card (re-issue it with card bind --reissue-reason), card_limit.',
    'Without --dry-run the cards are bound only when no line is bad, in one atomic step; otherwise the bad lines are listed',
    'and nothing is changed. Exit 0 when the file is clean (and, without --dry-run, bound), 1 otherwise.',
  ].join('\n'),
  options: { 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } },
  positionals: 1,
  async run(ctx, raw) {
    const args = checkValues('card import', z.object({ 'dry-run': flag, json: flag }), raw.values);
    const file = raw.positionals[0];
    if (file === undefined) throw new UsageError('card import: FILE: required (a CSV file: login, uid, label)');
    const bytes = readImportFile(file);
    const dryRun = args['dry-run'];
    const run = async (s: CliServices) => {
      const report = await createCardImport(s)(cliActor(ctx), { file: resolve(file), bytes, dryRun });
      const bad = report.lines.filter((l) => l.fate !== 'bind' && l.fate !== 'already_bound');
      if (args.json) ctx.io.stdout.write(`${terminalSafeJson(report)}\n`);
      else {
        const shown = dryRun ? report.lines : bad;
        if (shown.length > 0) ctx.io.stdout.write(table(shown, IMPORT_COLUMNS));
        const bound = report.counts.bind ?? 0;
        ctx.io.stdout.write(
          dryRun
            ? `dry run (${countsOf(report)}); nothing was changed\n`
            : report.committed
              ? `bound ${bound} card(s) (${countsOf(report)})\n`
              : `nothing was changed: ${bad.length} bad line(s) (${countsOf(report)})\n`,
        );
      }
      return bad.length === 0 ? 0 : 1;
    };
    // A dry run changes nothing, so it needs no audit trail; the real run does.
    return dryRun ? ctx.withServices(run) : ctx.withChanges(run);
  },
};

/** `cardauth card list`. */
export const cardList: Command = {
  path: ['card', 'list'],
  usage: '--login L [--json]',
  summary: "list an account's cards, active and revoked",
  options: { login: { type: 'string' }, json: { type: 'boolean' } },
  async run(ctx, raw) {
    const args = checkValues('card list', z.object({ login: loginArg, json: flag }), raw.values);
    return ctx.withServices(async (s) => {
      const account = await accountByLogin(s, args.login);
      const cards = (await s.cards.listForAccount(account.id)).map(cardView);
      printList(ctx.io.stdout, cards, COLUMNS, { json: args.json, empty: `no cards for ${account.login}` });
      return 0;
    });
  },
};

export const cardCommands: readonly Command[] = [cardBind, cardReplace, cardRevoke, cardLost, cardImport, cardList, cardUnlock];
