import { z } from 'zod';
import { createEnrollmentAdmin, type PendingView } from '../admin/enrollments';
import type { Uid } from '../contract/uid';
import { checkValues, flag, textArg, uidArg, UsageError } from './args';
import { cliActor, type Command } from './command';
import { printList, type Column } from './output';

const COLUMNS: Column<PendingView>[] = [
  { heading: 'UID', cell: (p) => p.uid },
  { heading: 'LOGIN', cell: (p) => p.login ?? undefined },
  { heading: 'NAME', cell: (p) => p.displayName ?? undefined },
  { heading: 'WORKSTATION', cell: (p) => `${p.workstation} (${p.agentId})` },
  { heading: 'REQUESTED', cell: (p) => p.requestedAt },
  { heading: 'EXPIRES', cell: (p) => p.expiresAt },
];

/** The single UID positional of `card approve UID` / `card reject UID`. */
function uidPositional(command: string, positionals: readonly string[]): Uid {
  const uid = positionals[0];
  if (uid === undefined) throw new UsageError(`${command}: UID: required (as card pending lists it)`);
  return checkValues(command, z.object({ uid: uidArg }), { uid }).uid;
}

/** `cardauth card pending`. */
export const cardPending: Command = {
  path: ['card', 'pending'],
  usage: '[--json]',
  summary: 'list the self-enrollments waiting for an officer: login, name, card UID, workstation, when',
  details: 'A clinician with no card tapped a card nobody has and gave login and password (CARDAUTH_SELF_ENROLLMENT). Approve it when the clinician shows the card at the desk.',
  options: { json: { type: 'boolean' } },
  async run(ctx, raw) {
    const args = checkValues('card pending', z.object({ json: flag }), raw.values);
    return ctx.withServices(async (s) => {
      printList(ctx.io.stdout, await createEnrollmentAdmin(s).list(), COLUMNS, { json: args.json, empty: 'no pending enrollments' });
      return 0;
    });
  },
};

/** `cardauth card approve`. */
export const cardApprove: Command = {
  path: ['card', 'approve'],
  usage: 'UID [--label T]',
  summary: "approve a pending self-enrollment: the card is bound to the account that asked for it",
  details: ['--label T   a note for officers, e.g. "ЕКП"', 'The bind\'s checks apply (the card limit; nobody approves a card for their own account).'].join('\n'),
  options: { label: { type: 'string' } },
  positionals: 1,
  async run(ctx, raw) {
    const uid = uidPositional('card approve', raw.positionals);
    const args = checkValues('card approve', z.object({ label: textArg('label', 64, { allowEmpty: true }).optional() }), raw.values);
    return ctx.withChanges(async (s) => {
      const { account, binding } = await createEnrollmentAdmin(s).approve(cliActor(ctx), { uid, label: args.label });
      ctx.io.stdout.write(`approved: bound card ${binding.uid} to ${account?.login ?? binding.accountId} (${binding.accountId})\n`);
      return 0;
    });
  },
};

/** `cardauth card reject`. */
export const cardReject: Command = {
  path: ['card', 'reject'],
  usage: 'UID --reason TEXT',
  summary: 'reject a pending self-enrollment; the card is free again',
  details: '--reason TEXT   why, recorded with card.enrollment_rejected',
  options: { reason: { type: 'string' } },
  positionals: 1,
  async run(ctx, raw) {
    const uid = uidPositional('card reject', raw.positionals);
    const args = checkValues('card reject', z.object({ reason: textArg('reason', 256) }), raw.values);
    return ctx.withChanges(async (s) => {
      const { account, pending } = await createEnrollmentAdmin(s).reject(cliActor(ctx), { uid, note: args.reason });
      ctx.io.stdout.write(`rejected the request of ${account?.login ?? pending.accountId} for card ${pending.uid}\n`);
      return 0;
    });
  },
};

export const cardPendingCommands: readonly Command[] = [cardPending, cardApprove, cardReject];
