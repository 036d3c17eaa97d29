/**
 * The named policy profiles (ФСТЭК, ИАФ.3 and УПД.4; docs/fstec.md): each sets
 * every password and lockout value, and the floor that value may not go
 * below. src/config.ts takes a profile value as the default of its key (the
 * config may override any single one), and refuses a value below the floor
 * unless CARDAUTH_ALLOW_BELOW_PROFILE is set.
 *
 * "Below the floor" means weaker: a value under a `min` floor (a shorter
 * password), or over a `max` one (more attempts before the lock, a longer
 * time between changes).
 */

/** The config keys a profile sets. */
export const PROFILE_KEYS = [
  'CARDAUTH_PASSWORD_MIN_LENGTH',
  'CARDAUTH_PASSWORD_MIN_ALPHABET',
  'CARDAUTH_PASSWORD_MAX_AGE_DAYS',
  'CARDAUTH_PASSWORD_HISTORY',
  'CARDAUTH_LOCKOUT_ATTEMPTS',
  'CARDAUTH_LOCKOUT_WINDOW_SEC',
  'CARDAUTH_LOCKOUT_DURATION_SEC',
] as const;
export type ProfileKey = (typeof PROFILE_KEYS)[number];

/** One value of a profile: its default, and its floor (the weakest value the profile allows, on the side `bound` says). */
export interface ProfileValue {
  value: number;
  floor: number;
  /** `min`: the config value must be at least the floor; `max`: at most. */
  bound: 'min' | 'max';
}

const at = (value: number, bound: 'min' | 'max', floor = value): ProfileValue => ({ value, floor, bound });

/**
 * Every profile. `fstec-2026` (the default) is the methodical document of
 * 12 April 2026; `fstec-2014-k3` the older values for class 3 systems (lock
 * after 3 to 10 failures for 3 to 15 minutes: 5 for 15 by default, at most
 * 10, at least 3 minutes; it asks for no password history).
 *
 * @example
 * PROFILES['fstec-2026'].CARDAUTH_PASSWORD_MIN_LENGTH // => { value: 12, floor: 12, bound: 'min' }
 */
export const PROFILES = {
  'fstec-2026': {
    CARDAUTH_PASSWORD_MIN_LENGTH: at(12, 'min'),
    CARDAUTH_PASSWORD_MIN_ALPHABET: at(70, 'min'),
    CARDAUTH_PASSWORD_MAX_AGE_DAYS: at(90, 'max'),
    CARDAUTH_PASSWORD_HISTORY: at(24, 'min'),
    CARDAUTH_LOCKOUT_ATTEMPTS: at(5, 'max'),
    CARDAUTH_LOCKOUT_WINDOW_SEC: at(900, 'min'),
    CARDAUTH_LOCKOUT_DURATION_SEC: at(900, 'min'),
  },
  'fstec-2014-k3': {
    CARDAUTH_PASSWORD_MIN_LENGTH: at(6, 'min'),
    CARDAUTH_PASSWORD_MIN_ALPHABET: at(30, 'min'),
    CARDAUTH_PASSWORD_MAX_AGE_DAYS: at(180, 'max'),
    CARDAUTH_PASSWORD_HISTORY: at(0, 'min'),
    CARDAUTH_LOCKOUT_ATTEMPTS: at(5, 'max', 10),
    CARDAUTH_LOCKOUT_WINDOW_SEC: at(900, 'min', 180),
    CARDAUTH_LOCKOUT_DURATION_SEC: at(900, 'min', 180),
  },
} as const satisfies Record<string, Record<ProfileKey, ProfileValue>>;

export type ProfileName = keyof typeof PROFILES;
export const PROFILE_NAMES = Object.keys(PROFILES) as [ProfileName, ...ProfileName[]];
export const DEFAULT_PROFILE: ProfileName = 'fstec-2026';

/** A value weaker than its profile's floor. */
export interface ProfileBreach {
  key: ProfileKey;
  value: number;
  floor: number;
  bound: 'min' | 'max';
}

/**
 * The values that break the profile's floors, in PROFILE_KEYS order.
 *
 * @example
 * profileBreaches('fstec-2026', { CARDAUTH_LOCKOUT_ATTEMPTS: 20 }) // => [{ key: 'CARDAUTH_LOCKOUT_ATTEMPTS', value: 20, floor: 5, bound: 'max' }]
 */
export function profileBreaches(profile: ProfileName, values: Partial<Record<ProfileKey, unknown>>): ProfileBreach[] {
  const out: ProfileBreach[] = [];
  for (const key of PROFILE_KEYS) {
    const value = values[key];
    if (typeof value !== 'number') continue;
    const { floor, bound } = PROFILES[profile][key];
    if (bound === 'min' ? value < floor : value > floor) out.push({ key, value, floor, bound });
  }
  return out;
}

/**
 * One line for a breach, naming the key (the config refusal, the start's audit record, `policy show`).
 *
 * @example
 * breachText('fstec-2026', { key: 'CARDAUTH_LOCKOUT_ATTEMPTS', value: 20, floor: 5, bound: 'max' })
 * // => 'CARDAUTH_LOCKOUT_ATTEMPTS: 20 is above the most profile fstec-2026 allows (5)'
 */
export function breachText(profile: ProfileName, b: ProfileBreach): string {
  return `${b.key}: ${b.value} is ${b.bound === 'min' ? 'below the least' : 'above the most'} profile ${profile} allows (${b.floor})`;
}
