import { CardauthError } from '../errors';
import { foldLogin } from '../store/accounts';

export interface PasswordPolicyConfig {
  /** ИАФ.3: at least 12 characters by default. */
  minLength: number;
  /** ИАФ.3: the alphabet the password draws from has at least 70 symbols by default. */
  minAlphabet: number;
}

/** Character classes and their sizes, for the alphabet a password draws from. */
const CLASSES: Array<[RegExp, number]> = [
  [/[a-z]/, 26],
  [/[A-Z]/, 26],
  [/[0-9]/, 10],
  [/[а-яё]/, 33],
  [/[А-ЯЁ]/, 33],
  [/[!-/:-@[-`{-~ ]/, 33], // ASCII punctuation and space
];

/**
 * The alphabet size of a password: the sum of the sizes of the character
 * classes it uses (Latin lower/upper, digits, Cyrillic lower/upper,
 * punctuation). `Пароль-2026` uses Cyrillic upper + lower, punctuation and
 * digits: 33 + 33 + 33 + 10 = 109.
 */
export function alphabetSize(password: string): number {
  return CLASSES.reduce((n, [re, size]) => (re.test(password) ? n + size : n), 0);
}

/** The shortest name part a password may not contain: shorter ones (`А.`, `Д-р`'s `р`) would refuse too much. */
const MIN_NAME_PART = 3;

/**
 * What a password may not contain, folded as logins are (NFKC, case): the
 * login, the display name, and each word of the display name of 3 letters or more.
 */
function personalParts(who: { login: string; displayName: string }): string[] {
  const name = foldLogin(who.displayName);
  const parts = [foldLogin(who.login), name, ...name.split(/[\s.,]+/)];
  return parts.filter((p) => [...p].length >= MIN_NAME_PART);
}

/**
 * Checks a new password against the ФСТЭК profile (ИАФ.3): a minimum length
 * and a minimum alphabet (`password_weak`); and, given whose it is, that it
 * does not contain their login or display name, or a word of it, in any case
 * (`password_contains_name`). The message says what to do and never echoes
 * the password or its length.
 *
 * @example
 * checkPassword('Пароль-Ивановой-2026', { minLength: 12, minAlphabet: 70 }); // ok
 * checkPassword('Ivanova-Spring-2026', { minLength: 12, minAlphabet: 70 }, { login: 'ivanova', displayName: 'Иванова А. П.' }); // password_contains_name
 */
export function checkPassword(password: string, policy: PasswordPolicyConfig, who?: { login: string; displayName: string }): void {
  if ([...password].length < policy.minLength || alphabetSize(password) < policy.minAlphabet) {
    throw new CardauthError(
      'password_weak',
      `the password must be at least ${policy.minLength} characters and mix letter cases, digits and punctuation (an alphabet of at least ${policy.minAlphabet} symbols)`,
    );
  }
  if (who) {
    const folded = foldLogin(password);
    if (personalParts(who).some((p) => folded.includes(p))) throw new CardauthError('password_contains_name', 'the password must not contain your login or your name');
  }
}
