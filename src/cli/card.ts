import { z } from 'zod';
import { REVOKE_REASONS, type CardBinding } from '../store/cards';
import { accountByLogin } from './account';
import { checkValues, flag, loginArg, revokeReasonArg, textArg, uidArg } from './args';
import { auditChange, type Command } from './command';
import { endSessionsOf } from '../admin/end-sessions';
import { isoTime, printList, type Column } from './output';

/** A binding as the CLI shows it. */
export interface CardView {
  uid: string;
  accountId: string;
  status: string;
  label: string;
  boundAt: string | undefined;
  boundBy: string;
  revokedAt: string | null;
  revokedBy: string | null;
  revokeReason: string | null;
  reissueReason: string | null;
}

/**
 * A binding for `card list`, times as ISO strings.
 *
 * @example
 * (await cards.listForAccount(id)).map(cardView)
 */
export function cardView(b: CardBinding): CardView {
  return {
    uid: b.uid,
    accountId: b.accountId,
    status: b.status,
    label: b.label,
    boundAt: isoTime(b.boundAt),
    boundBy: b.boundBy,
    revokedAt: isoTime(b.revokedAt) ?? null,
    revokedBy: b.revokedBy ?? null,
    revokeReason: b.revokeReason ?? null,
    reissueReason: b.reissueReason ?? null,
  };
}

const COLUMNS: Column<CardView>[] = [
  { heading: 'UID', cell: (c) => c.uid },
  { heading: 'STATUS', cell: (c) => c.status },
  { heading: 'LABEL', cell: (c) => c.label },
  { heading: 'BOUND', cell: (c) => c.boundAt },
  { heading: 'BY', cell: (c) => c.boundBy },
  { heading: 'REVOKED', cell: (c) => (c.revokedAt ? `${c.revokedAt} ${c.revokeReason ?? ''} ${c.revokedBy ?? ''}`.trim() : undefined) },
];

const BindArgs = z.object({
  login: loginArg,
  uid: uidArg,
  label: textArg('label', 64, { allowEmpty: true }).optional(),
  'reissue-reason': textArg('reissue-reason', 256).optional(),
});

/** `cardauth card bind`. */
export const cardBind: Command = {
  path: ['card', 'bind'],
  usage: '--login L --uid HEX [--label T] [--reissue-reason TEXT]',
  summary: "bind a card to an account's allow-list",
  details: [
    '--login L                 the account',
    '--uid HEX                 the card UID: 4, 7 or 10 bytes of hex (spaces, colons, dashes allowed); not a random 08xxxxxx UID',
    '--label T                 a note for officers, e.g. "ЕКП" or "запасная"',
    '--reissue-reason TEXT     required to bind a revoked card again; recorded as card.reissued',
  ].join('\n'),
  options: { login: { type: 'string' }, uid: { type: 'string' }, label: { type: 'string' }, 'reissue-reason': { type: 'string' } },
  async run(ctx, raw) {
    const args = checkValues('card bind', BindArgs, raw.values);
    return ctx.withChanges(async (s) => {
      const account = await accountByLogin(s, args.login);
      const reissueReason = args['reissue-reason'];
      const binding = await s.cards.bind({
        uid: args.uid,
        accountId: account.id,
        by: ctx.actor,
        ...(args.label !== undefined ? { label: args.label } : {}),
        ...(reissueReason !== undefined ? { reissueReason } : {}),
      });
      const reissued = binding.reissueReason !== undefined;
      await auditChange(
        ctx,
        s,
        {
          type: reissued ? 'card.reissued' : 'card.bound',
          outcome: 'success',
          subject: { accountId: account.id, login: account.login },
          cardUid: binding.uid,
          details: { ...(binding.label ? { label: binding.label } : {}), ...(reissued ? { reissueReason: binding.reissueReason as string } : {}) },
        },
        `card ${binding.uid} was bound to ${account.login}`,
      );
      const note = reissueReason !== undefined && !reissued ? ' (it was not revoked, so --reissue-reason was not needed)' : '';
      ctx.io.stdout.write(`${reissued ? 're-issued' : 'bound'} card ${binding.uid} to ${account.login} (${account.id})${note}\n`);
      return 0;
    });
  },
};

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
      const prior = await s.cards.get(args.uid);
      if (prior?.status === 'revoked') {
        // Already revoked (perhaps by a run that failed before its sessions were ended): end them now.
        const ended = await endSessionsOf(ctx, s, { what: `card ${prior.uid}`, match: { cardUid: prior.uid }, cause: 'card_revoked' });
        ctx.io.stdout.write(`card ${prior.uid} of ${prior.accountId} was already revoked (${prior.revokeReason ?? 'other'}); ${ended}\n`);
        return 0;
      }
      // The owner's login goes into the record too, so an auditor filtering by login sees the card's
      // whole story. Read before the change: nothing may fail between the change and its record.
      const owner = prior ? await s.accounts.get(prior.accountId) : null;
      const binding = await s.cards.revoke({ uid: args.uid, reason: args.reason, by: ctx.actor });
      const ended = await endSessionsOf(ctx, s, {
        what: `card ${binding.uid}`,
        match: { cardUid: binding.uid },
        cause: 'card_revoked',
        change: { type: 'card.revoked', outcome: 'success', reason: args.reason, subject: { accountId: binding.accountId, login: owner?.id === binding.accountId ? owner.login : undefined }, cardUid: binding.uid },
      });
      ctx.io.stdout.write(`revoked card ${binding.uid} of ${binding.accountId} (${args.reason}); ${ended}\n`);
      return 0;
    });
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

export const cardCommands: readonly Command[] = [cardBind, cardRevoke, cardList];
