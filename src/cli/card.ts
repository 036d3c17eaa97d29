import { z } from 'zod';
import { accountByLogin } from '../admin/accounts';
import { createCardAdmin } from '../admin/cards';
import { REVOKE_REASONS, type CardBinding } from '../store/cards';
import { checkValues, flag, loginArg, revokeReasonArg, textArg, uidArg } from './args';
import { cliActor, type Command } from './command';
import { endedPhrase, isoTime, printList, type Column } from './output';

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
      const reissueReason = args['reissue-reason'];
      const { account, binding, reissued } = await createCardAdmin(s).bind(cliActor(ctx), { login: args.login, uid: args.uid, label: args.label, reissueReason });
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
      const { binding, already, ended } = await createCardAdmin(s).revoke(cliActor(ctx), args);
      ctx.io.stdout.write(
        already
          ? `card ${binding.uid} of ${binding.accountId} was already revoked (${binding.revokeReason ?? 'other'}); ${endedPhrase(ended)}\n`
          : `revoked card ${binding.uid} of ${binding.accountId} (${args.reason}); ${endedPhrase(ended)}\n`,
      );
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
