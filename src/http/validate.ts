import type { Request } from 'express';
import { z } from 'zod';
import { CardauthError } from '../errors';

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
  const r = schema.safeParse(req.body ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = issue?.path.join('.') || 'body';
    throw new CardauthError('bad_request', `invalid field: ${field}`);
  }
  return r.data;
}

const text = (max: number) => z.string().min(1).max(max);
export const StatementBody = z.strictObject({ statement: text(4096) });
export const PasswordBody = z.strictObject({ login: text(64), password: text(1024) });
export const LoginBody = z.strictObject({ statement: text(4096), login: text(64), password: text(1024) });
export const EmptyBody = z.union([z.strictObject({}), z.undefined()]);
