import { z } from 'zod';
import { effectivePolicy, type PolicyValue } from '../admin/policy';
import { loadServerConfigSubset } from '../config';
import { PROFILE_KEYS } from '../policy-profiles';
import { checkValues, flag } from './args';
import type { Command } from './command';
import { printList, terminalSafeJson, type Column } from './output';

const COLUMNS: Column<PolicyValue>[] = [
  { heading: 'KEY', cell: (v) => v.key },
  { heading: 'VALUE', cell: (v) => String(v.value) },
  { heading: 'FROM', cell: (v) => v.source },
  { heading: 'PROFILE', cell: (v) => String(v.profileValue) },
  { heading: 'FLOOR', cell: (v) => `${v.bound === 'min' ? '>=' : '<='} ${v.floor}` },
  { heading: 'BELOW', cell: (v) => (v.belowProfile ? 'yes' : undefined) },
];

/** `cardauth policy show`. */
export const policyShow: Command = {
  path: ['policy', 'show'],
  usage: '[--json]',
  summary: 'print the effective password and lockout policy: each value, where it came from (profile, file or env) and the profile\'s floor',
  details: [
    'Reads the configuration as `cardauth serve` does (the environment, --config FILE, the profile',
    'CARDAUTH_POLICY_PROFILE). A value weaker than the profile\'s floor is refused there, as at start,',
    'unless CARDAUTH_ALLOW_BELOW_PROFILE is set; then BELOW says yes.',
  ].join('\n'),
  options: { json: { type: 'boolean' } },
  async run(ctx, raw) {
    const args = checkValues('policy show', z.object({ json: flag }), raw.values);
    const config = loadServerConfigSubset([...PROFILE_KEYS, 'CARDAUTH_POLICY_PROFILE', 'CARDAUTH_ALLOW_BELOW_PROFILE'], ctx.io.env, ctx.configFile);
    const policy = effectivePolicy(config);
    if (args.json) {
      ctx.io.stdout.write(`${terminalSafeJson(policy)}\n`);
      return 0;
    }
    const allow = policy.allowBelowProfile ? '; CARDAUTH_ALLOW_BELOW_PROFILE is set' : '';
    ctx.io.stdout.write(`profile ${policy.profile} (from ${policy.profileSource})${allow}\n`);
    printList(ctx.io.stdout, policy.values, COLUMNS, { json: false, empty: '' });
    return 0;
  },
};

export const policyCommands: readonly Command[] = [policyShow];
