import type { Request } from 'express';
import { z } from 'zod';
import { CardauthError } from '../errors';

/** Parses `value` with a zod schema: `bad_request` naming the first bad `what` (or `whole`), never its value. */
function parseWith<S extends z.ZodType>(value: unknown, schema: S, what: string, whole: string): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = issue?.path.join('.') || whole;
    throw new CardauthError('bad_request', `invalid ${what}: ${field}`);
  }
  return r.data;
}

/**
 * Parses the JSON body with a zod schema at the edge. A missing body, a
 * non-string where a string is expected (`login[$ne]=` tricks), an unknown
 * field or an overlong value is `bad_request` naming the field, never its
 * value.
 *
 * @example
 * const { login, password } = parseBody(req, PasswordBody);
 */
export function parseBody<S extends z.ZodType>(req: Request, schema: S): z.output<S> {
  return parseWith(req.body ?? {}, schema, 'field', 'body');
}

/**
 * Parses the query string the same way: a repeated parameter (an array), an
 * unknown one or a bad value is `bad_request` naming the parameter.
 *
 * @example
 * const { role } = parseQuery(req, z.strictObject({ role: z.string().optional() }));
 */
export function parseQuery<S extends z.ZodType>(req: Request, schema: S): z.output<S> {
  return parseWith(req.query, schema, 'query parameter', 'query');
}

const text = (max: number) => z.string().min(1).max(max);
export const StatementBody = z.strictObject({ statement: text(4096) });
/** At the account's session limit: the handles (SHA-256 hex) of its other sessions to end, from the 409 `session_limit` answer. */
const endSessions = z.array(z.string().regex(/^[0-9a-f]{64}$/)).max(100).optional();
export const PasswordBody = z.strictObject({ login: text(64), password: text(1024), endSessions });
export const LoginBody = z.strictObject({ statement: text(4096), login: text(64), password: text(1024), endSessions });
export const PasswordChangeBody = z.strictObject({ currentPassword: text(1024), newPassword: text(1024) });
export const EmptyBody = z.union([z.strictObject({}), z.undefined()]);
