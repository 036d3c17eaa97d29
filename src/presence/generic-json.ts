import { z } from 'zod';
import { CardauthError } from '../errors';
import type { PresenceAdapter } from './adapter';

/** The largest batch one statement may carry. */
export const MAX_EVENTS = 100;

const Event = z.strictObject({
  login: z.string().min(1).max(64),
  direction: z.enum(['entry', 'exit']),
  /** ISO 8601 with an offset, e.g. `2026-12-04T08:55:00+03:00`. */
  time: z.iso.datetime({ offset: true }),
  door: z.string().min(1).max(128),
});
const Payload = z.object({ events: z.array(Event).max(MAX_EVENTS) });

/**
 * The generic JSON webhook (docs/presence.md): the statement's `events` claim is a list of
 * `{login, direction: 'entry'|'exit', time, door}`; an empty list is a heartbeat (the feed is
 * alive, nobody passed).
 *
 * @example
 * genericJsonAdapter.events({ events: [{ login: 'ivanova', direction: 'entry', time: '2026-12-04T08:55:00+03:00', door: 'Проходная 1' }] });
 */
export const genericJsonAdapter: PresenceAdapter = {
  name: 'generic-json',
  events(payload) {
    const parsed = Payload.safeParse(payload);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new CardauthError('bad_request', `events: ${issue ? `${issue.path.join('.') || 'events'}: ${issue.message}` : 'invalid'}`);
    }
    return parsed.data.events.map((e) => ({ login: e.login, direction: e.direction, at: Date.parse(e.time), door: e.door }));
  },
};
