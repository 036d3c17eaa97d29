import type { AuditEventInput } from '../audit/record';
import { configSources, type ConfigSource, type ServerConfig } from '../config';
import { PROFILE_KEYS, PROFILES, profileBreaches, type ProfileKey, type ProfileName } from '../policy-profiles';

/** The config a policy view reads: the profile, its switch, and every value a profile sets. */
export type PolicyConfig = Pick<ServerConfig, ProfileKey | 'CARDAUTH_POLICY_PROFILE' | 'CARDAUTH_ALLOW_BELOW_PROFILE'>;

/** One effective value: where it came from, and what the profile says of it. */
export interface PolicyValue {
  key: ProfileKey;
  value: number;
  /** `profile`, or the `file` or `env` that overrode it. */
  source: ConfigSource;
  profileValue: number;
  floor: number;
  bound: 'min' | 'max';
  /** Weaker than the floor (only possible with CARDAUTH_ALLOW_BELOW_PROFILE). */
  belowProfile: boolean;
}

/** The effective policy, as `cardauth policy show` prints it and the officer's page will show it. */
export interface EffectivePolicy {
  profile: ProfileName;
  /** Where the profile's name came from (`default` when none was chosen). */
  profileSource: ConfigSource;
  allowBelowProfile: boolean;
  values: PolicyValue[];
}

/**
 * The effective password and lockout values, each with where it came from
 * (the profile, the config file or the environment) and the profile's own
 * value and floor. Reads only the config (its sources as loaded by
 * src/config.ts); a config not made by the loader counts as the profile's.
 *
 * @example
 * effectivePolicy(loadServerConfig(process.env)).values[0]
 * // => { key: 'CARDAUTH_PASSWORD_MIN_LENGTH', value: 12, source: 'profile', profileValue: 12, floor: 12, bound: 'min', belowProfile: false }
 */
export function effectivePolicy(config: PolicyConfig): EffectivePolicy {
  const sources = configSources(config) ?? {};
  const profile = config.CARDAUTH_POLICY_PROFILE;
  const below = new Set(profileBreaches(profile, config).map((b) => b.key));
  return {
    profile,
    profileSource: sources.CARDAUTH_POLICY_PROFILE ?? 'default',
    allowBelowProfile: config.CARDAUTH_ALLOW_BELOW_PROFILE,
    values: PROFILE_KEYS.map((key) => {
      const { value: profileValue, floor, bound } = PROFILES[profile][key];
      return { key, value: config[key], source: sources[key] ?? 'profile', profileValue, floor, bound, belowProfile: below.has(key) };
    }),
  };
}

/** Short names for the audit record's details (a detail key may not name a password). */
const DETAIL_NAMES: Readonly<Record<ProfileKey, string>> = {
  CARDAUTH_PASSWORD_MIN_LENGTH: 'minLength',
  CARDAUTH_PASSWORD_MIN_ALPHABET: 'minAlphabet',
  CARDAUTH_PASSWORD_MAX_AGE_DAYS: 'maxAgeDays',
  CARDAUTH_PASSWORD_HISTORY: 'history',
  CARDAUTH_LOCKOUT_ATTEMPTS: 'lockoutAttempts',
  CARDAUTH_LOCKOUT_WINDOW_SEC: 'lockoutWindowSec',
  CARDAUTH_LOCKOUT_DURATION_SEC: 'lockoutDurationSec',
};

/**
 * The audit record of the policy a server starts with (`policy.applied`): the
 * profile, every value and where it came from, and, when
 * CARDAUTH_ALLOW_BELOW_PROFILE let a weaker value through, reason
 * `below_profile` with the keys.
 *
 * @example
 * await audit.append(policyAppliedRecord(config));
 */
export function policyAppliedRecord(config: PolicyConfig): AuditEventInput {
  const p = effectivePolicy(config);
  const below = p.values.filter((v) => v.belowProfile).map((v) => v.key);
  const details: Record<string, string | number | boolean> = { profile: p.profile, profileFrom: p.profileSource, allowBelowProfile: p.allowBelowProfile };
  for (const v of p.values) {
    details[DETAIL_NAMES[v.key]] = v.value;
    details[`${DETAIL_NAMES[v.key]}From`] = v.source;
  }
  if (below.length > 0) details.belowProfile = below.join(',');
  return { type: 'policy.applied', outcome: 'success', ...(below.length > 0 ? { reason: 'below_profile' } : {}), details };
}
