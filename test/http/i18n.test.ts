import { LANGS, messages } from '../../src/http/i18n';

describe('page texts', () => {
  const ru = messages('ru');
  const en = messages('en');

  it('English texts have no Cyrillic (but the link to the Russian page)', () => {
    const cyrillic = Object.entries(en).filter(([key, text]) => key !== 'other_lang' && /[\u0400-\u04FF]/.test(text));
    expect(cyrillic).toEqual([]);
  });

  it('English uses one verb for putting the card on the reader: "place", never "tap"', () => {
    expect(Object.entries(en).filter(([, text]) => /\btap/i.test(text))).toEqual([]);
  });

  it('every server error code the pages meet has a text of its own, in both languages', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(ru).sort());
    for (const lang of LANGS) for (const [key, text] of Object.entries(messages(lang))) expect([lang, key, text.trim().length > 0]).toEqual([lang, key, true]);
    for (const code of ['origin_forbidden', 'unavailable', 'card_step_required', 'attempt_in_progress', 'session_expired', 'card_rejected', 'login_failed', 'locked', 'rate_limited', 'enrollment_pending']) {
      expect(ru).toHaveProperty(`err_${code}`);
      expect(en).toHaveProperty(`err_${code}`);
    }
  });

  it('the signed-in and locked pages are not titled "sign-in"', () => {
    for (const t of [ru, en]) {
      expect(t).toHaveProperty('page_title_home', expect.any(String));
      expect(t).toHaveProperty('page_title_locked', expect.any(String));
      expect(t.page_title_home).not.toBe(t.title);
      expect(t.page_title_locked).not.toBe(t.title);
    }
  });
});
