import { Router, type Request } from 'express';
import { z } from 'zod';
import { CARD_CSV_FORM_MAX_BYTES } from '../../admin/card-csv';
import type { CardImport, ImportReport } from '../../admin/card-import';
import type { CardAdmin } from '../../admin/cards';
import type { EnrollmentAdmin } from '../../admin/enrollments';
import { normaliseUid } from '../../contract/uid';
import { parseDay } from '../../days';
import { REVOKE_REASONS, type RevokeReason } from '../../store/cards';
import { parseBody, parseQuery } from '../validate';
import type { AdminPage, AdminPageKit, Outcome } from './kit';

/** Where the page finds the officer's own card agent, as the login page does (CARDAUTH_AGENT_URL, CARDAUTH_AGENT_PORTS, the statement's audience). */
export interface DeskAgent {
  agentUrl: string;
  /** `from-to`, or '' for the one agentUrl. */
  agentPorts: string;
  origin: string;
}

const STATUSES = ['active', 'expired', 'revoked'] as const;
const Query = z.strictObject({
  login: z.string().max(64).optional(),
  uid: z.string().max(64).optional(),
  status: z.enum(['', ...STATUSES]).optional(),
  cursor: z.string().max(700).optional(),
  lang: z.string().optional(),
});
const PAGE_SIZE = 50;

/** Optional text of a form: an empty field is not given. */
const optional = (max: number) => z.string().max(max).optional().transform((v) => (v?.trim() ? v.trim() : undefined));
/** A form's date (`<input type=date>`: YYYY-MM-DD) as 00:00 UTC of that day, as `card bind --expires` takes a date; empty for none. */
const expires = z
  .string()
  .max(10)
  .optional()
  .transform((v, ctx) => {
    if (!v) return undefined;
    const ms = parseDay(v);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: 'a date: YYYY-MM-DD' });
      return z.NEVER;
    }
    return ms;
  });
const NewCardForm = {
  uid: z.string().max(64),
  label: optional(256),
  expires,
  reissue_reason: optional(1024),
};
const BindForm = z.object({ login: z.string().max(256), ...NewCardForm });
const ReplaceForm = z.object({ old_uid: z.string().max(64), ...NewCardForm });
const RevokeForm = z.object({ reason: z.enum(REVOKE_REASONS as [RevokeReason, ...RevokeReason[]]) });
const EnrollmentApproveForm = z.object({ label: optional(256) });
const EnrollmentRejectForm = z.object({ reason: z.string().trim().min(1).max(256) });
const ImportForm = z.object({ csv: z.string(), mode: z.enum(['dry_run', 'commit']), file: optional(256) });

/** The new card of a bind or replace form, as the use case takes it (a bad UID: its uid_* code). */
const newCardOf = (f: { uid: string; label?: string | undefined; expires?: number | undefined; reissue_reason?: string | undefined }) => ({
  uid: normaliseUid(f.uid),
  label: f.label,
  expiresAt: f.expires,
  reissueReason: f.reissue_reason,
});

/** What the page's import form sent, to show it again (after a dry run, or a refusal). */
const importText = (req: Request): string => (req.method === 'POST' && typeof req.body?.csv === 'string' ? (req.body.csv as string) : '');

/**
 * The cards page (`/admin/cards`): every card with its owner, paged by the store's index and
 * filtered by login prefix, UID and status; bind (the UID typed, or read at the desk from the
 * officer's own reader: views/assets/cards.js and `POST /admin/api/cards/desk-read`), revoke
 * with a reason, report lost (every session opened with the card ends at once), replace, and a
 * CSV import (a dry run showing each line's fate, then the all-or-nothing run); the pending
 * self-enrollments, to approve (the card bound) or reject with a reason. Each form calls the
 * same use case as the CLI (`card bind|revoke|lost|replace|import|approve|reject`) and the JSON API.
 *
 * @example
 * router.use(createCardsPage(kit, admin, { agentUrl, agentPorts, origin }).router);
 */
export function createCardsPage(kit: AdminPageKit, admin: { cards: CardAdmin; cardImport: CardImport; enrollments: EnrollmentAdmin }, desk: DeskAgent): { page: AdminPage; router: Router } {
  const router = Router();
  const page: AdminPage = {
    path: '/admin/cards',
    label: 'nav_cards',
    async show(req, res, shown) {
      const q = parseQuery(req, Query);
      const filter = { login: q.login?.trim() ?? '', uid: q.uid?.trim() ?? '', status: q.status ?? '' };
      let uid;
      try {
        uid = filter.uid ? normaliseUid(filter.uid) : undefined;
      } catch {
        uid = null; // a UID no card can have: nothing to list
      }
      const list =
        uid === null
          ? { cards: [], cursor: null }
          : await admin.cards.list({ login: filter.login || undefined, uid, status: filter.status || undefined, cursor: q.cursor, limit: PAGE_SIZE });
      const query = (cursor?: string) => {
        const p = new URLSearchParams({ ...(filter.login ? { login: filter.login } : {}), ...(filter.uid ? { uid: filter.uid } : {}), ...(filter.status ? { status: filter.status } : {}), ...(cursor ? { cursor } : {}) }).toString();
        return p ? `?${p}` : '';
      };
      const pending = await admin.enrollments.list();
      kit.render(req, res, shown, page, 'cards', {
        pending: pending.map((p) => ({ ...p, requestedAt: Date.parse(p.requestedAt), expiresAt: Date.parse(p.expiresAt) })),
        cards: list.cards,
        filter,
        statuses: STATUSES,
        reasons: REVOKE_REASONS.filter((r) => r !== 'replaced'),
        cursorParam: q.cursor ?? '',
        firstHref: query(),
        nextHref: list.cursor ? query(list.cursor) : '',
        report: (shown.done?.report as ImportReport | undefined) ?? null,
        csv: importText(req),
        desk,
      });
    },
  };
  kit.page(router, page);

  kit.action(router, '/admin/cards/bind', page, async (req, by) => {
    const f = parseBody(req, BindForm);
    const { account, binding, reissued } = await admin.cards.bind(by, { login: f.login, ...newCardOf(f) });
    return { key: reissued ? 'done_card_reissued' : 'done_card_bound', params: { uid: binding.uid, login: account.login } };
  });
  kit.action(router, '/admin/cards/replace', page, async (req, by) => {
    const f = parseBody(req, ReplaceForm);
    const { old, binding, ended } = await admin.cards.replace(by, { oldUid: normaliseUid(f.old_uid), ...newCardOf(f) });
    return { key: 'done_card_replaced', params: { old: old.uid, uid: binding.uid, ended } };
  });
  kit.action(router, '/admin/cards/:uid/revoke', page, async (req, by) => {
    const f = parseBody(req, RevokeForm);
    const { binding, already, ended } = await admin.cards.revoke(by, { uid: normaliseUid(String(req.params.uid)), reason: f.reason });
    return { key: already ? 'done_card_already_revoked' : 'done_card_revoked', params: { uid: binding.uid, ended } };
  });
  kit.action(router, '/admin/cards/:uid/lost', page, async (req, by) => {
    const { binding, already, ended } = await admin.cards.lost(by, { uid: normaliseUid(String(req.params.uid)) });
    return { key: already ? 'done_card_already_revoked' : 'done_card_lost', params: { uid: binding.uid, ended } };
  });
  kit.action(router, '/admin/cards/pending/:uid/approve', page, async (req, by) => {
    const f = parseBody(req, EnrollmentApproveForm);
    const { account, binding } = await admin.enrollments.approve(by, { uid: normaliseUid(String(req.params.uid)), label: f.label });
    return { key: 'done_enrollment_approved', params: { uid: binding.uid, login: account?.login ?? binding.accountId } };
  });
  kit.action(router, '/admin/cards/pending/:uid/reject', page, async (req, by) => {
    const f = parseBody(req, EnrollmentRejectForm);
    const { account, pending } = await admin.enrollments.reject(by, { uid: normaliseUid(String(req.params.uid)), note: f.reason });
    return { key: 'done_enrollment_rejected', params: { uid: pending.uid, login: account?.login ?? pending.accountId } };
  });
  kit.action(
    router,
    '/admin/cards/import',
    page,
    async (req, by): Promise<Outcome> => {
      const f = parseBody(req, ImportForm);
      const dryRun = f.mode === 'dry_run';
      const report = await admin.cardImport(by, { file: f.file ?? 'workbench form', bytes: Buffer.from(f.csv), dryRun });
      const bad = report.lines.filter((l) => l.fate !== 'bind' && l.fate !== 'already_bound').length;
      const params = { lines: report.lines.length, bind: report.counts.bind ?? 0, bad };
      const key = dryRun ? 'done_import_checked' : report.committed ? 'done_import_committed' : 'done_import_refused';
      return { key, params, report };
    },
    { maxBytes: CARD_CSV_FORM_MAX_BYTES },
  );
  return { page, router };
}
