import { alphabetSize, checkPassword } from '../../src/policy/password-policy';
import { isCardauthError } from '../../src/errors';

const fstec = { minLength: 12, minAlphabet: 70 };
const code = (f: () => void) => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return isCardauthError(e) ? e.code : 'untyped';
  }
};

describe('password policy', () => {
  it('counts the alphabet from the classes a password uses', () => {
    expect(alphabetSize('abc')).toBe(26);
    expect(alphabetSize('aB3')).toBe(62);
    expect(alphabetSize('aB3!')).toBe(95);
    expect(alphabetSize('Пароль-2026')).toBe(109);
  });
  it('accepts the ФСТЭК default profile: 12+ characters from 70+ symbols', () => {
    expect(code(() => checkPassword('Пароль-Ивановой-2026', fstec))).toBe('ok');
    expect(code(() => checkPassword('Correct-Horse-7', fstec))).toBe('ok');
  });
  it('refuses a short password or a small alphabet with password_weak', () => {
    expect(code(() => checkPassword('Коротк-1', fstec))).toBe('password_weak');
    expect(code(() => checkPassword('abcdefGHIJKL123456', fstec))).toBe('password_weak');
  });
  it('the older class-3 profile (6 characters, alphabet 30) is a config choice', () => {
    expect(code(() => checkPassword('abcdef', { minLength: 6, minAlphabet: 30 }))).toBe('password_weak');
    expect(code(() => checkPassword('abc123', { minLength: 6, minAlphabet: 30 }))).toBe('ok');
  });
  it('refuses a password that contains the login, the display name or a word of it, in any case, with password_contains_name', () => {
    const ivanova = { login: 'ivanova', displayName: 'Иванова Анна Петровна' };
    expect(code(() => checkPassword('Spring-IVANOVA-2026', fstec, ivanova))).toBe('password_contains_name');
    expect(code(() => checkPassword('Весна-иВаНоВа-2026!', fstec, ivanova))).toBe('password_contains_name');
    expect(code(() => checkPassword('Xx-Иванова Анна Петровна-1', fstec, ivanova))).toBe('password_contains_name');
    expect(code(() => checkPassword('Петровна-весна-2026', fstec, ivanova))).toBe('password_contains_name');
    // Fullwidth letters fold like a login does.
    expect(code(() => checkPassword('Spring-ｉｖａｎｏｖａ-2026', fstec, ivanova))).toBe('password_contains_name');
    expect(code(() => checkPassword('Пароль-Ивановой-2026', fstec, ivanova))).toBe('ok');
    // Initials and short words are not names to refuse.
    expect(code(() => checkPassword('Ан-Пароль-2026!', fstec, { login: 'an', displayName: 'Ли А. П.' }))).toBe('ok');
  });
  it('checks strength first: a weak password that holds the login is password_weak', () => {
    expect(code(() => checkPassword('ivanova1', fstec, { login: 'ivanova', displayName: 'X' }))).toBe('password_weak');
  });
});
