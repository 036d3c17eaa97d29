import { genericJsonAdapter, MAX_EVENTS } from '../../src/presence/generic-json';

const ev = { login: 'ivanova', direction: 'entry', time: '2026-12-04T08:55:00+03:00', door: 'Проходная 1' };

describe('the generic JSON webhook adapter', () => {
  it('reads events into cardauth events (time to ms); an empty list is a heartbeat', () => {
    expect(genericJsonAdapter.events({ events: [ev] })).toEqual([{ login: 'ivanova', direction: 'entry', at: Date.parse('2026-12-04T05:55:00Z'), door: 'Проходная 1' }]);
    expect(genericJsonAdapter.events({ events: [] })).toEqual([]);
  });
  it.each([
    ['no events', {}],
    ['a bad direction', { events: [{ ...ev, direction: 'in' }] }],
    ['a time without an offset', { events: [{ ...ev, time: '2026-12-04T08:55:00' }] }],
    ['an unknown field', { events: [{ ...ev, badge: '123' }] }],
    ['too many', { events: Array.from({ length: MAX_EVENTS + 1 }, () => ev) }],
  ])('refuses %s with bad_request', (_what, payload) => {
    expect(() => genericJsonAdapter.events(payload)).toThrow(expect.objectContaining({ code: 'bad_request' }));
  });
});
