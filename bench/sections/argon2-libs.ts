import { forkChild } from '../lib/children';
import { fmt, median, percentile } from '../lib/stats';
import type { Row, Section } from '../lib/types';
import type { Argon2LibParams, Argon2LibResult } from '../workers/argon2-libs';

/** The login's argon2id cost (config defaults; OWASP m=19 MiB, t=2, p=1). */
export const ARGON2_PARAMS = { memoryKiB: 19456, time: 2, parallelism: 1 } as const;

export const argon2LibsSection: Section = {
  id: 'argon2',
  title: 'argon2 library: @node-rs/argon2 vs argon2, equal parameters',
  async run(ctx) {
    const rounds = Math.max(4, Math.round(10 * ctx.options.timeScale));
    ctx.log(`argon2: ${rounds} alternating rounds × 3 hashes + 3 verifies per library, one at a time, in a child process`);
    const r = await ctx.cleanup.scope(async (cleanup) => {
      const child = await forkChild<null>(cleanup, 'workers/argon2-libs.js', null);
      return child.call<Argon2LibResult>('run', { ...ARGON2_PARAMS, rounds, perRound: 3 } satisfies Argon2LibParams);
    });
    const a = '@node-rs/argon2';
    const b = 'argon2';
    const h = { a: median(r.hashMs[a]!), b: median(r.hashMs[b]!) };
    const v = { a: median(r.verifyMs[a]!), b: median(r.verifyMs[b]!) };
    const params = `m=${ARGON2_PARAMS.memoryKiB} KiB, t=${ARGON2_PARAMS.time}, p=${ARGON2_PARAMS.parallelism}`;
    const rows: Row[] = [
      {
        metric: 'argon2id hash: @node-rs/argon2 speed vs argon2',
        value: h.a,
        unit: 'ms/hash',
        baseline: { label: `argon2 ${r.versions[b]}`, value: h.b, unit: 'ms/hash' },
        ratio: h.b / h.a,
        target: { op: '>', value: 1, of: 'ratio' },
        note: `ratio = argon2 ms ÷ @node-rs ms; ${params}; median of ${r.hashMs[a]!.length}`,
      },
      {
        metric: 'argon2id verify: @node-rs/argon2 speed vs argon2',
        value: v.a,
        unit: 'ms/verify',
        baseline: { label: `argon2 ${r.versions[b]}`, value: v.b, unit: 'ms/verify' },
        ratio: v.b / v.a,
        target: { op: '>', value: 1, of: 'ratio' },
        note: `same; median of ${r.verifyMs[a]!.length}`,
      },
    ];
    const dist = (xs: number[]) => `p10 ${fmt(percentile(xs, 10), 1)} / p50 ${fmt(percentile(xs, 50), 1)} / p90 ${fmt(percentile(xs, 90), 1)} ms`;
    const details = [
      `${a} ${r.versions[a]}: hash ${dist(r.hashMs[a]!)}; verify ${dist(r.verifyMs[a]!)}`,
      `${b} ${r.versions[b]}: hash ${dist(r.hashMs[b]!)}; verify ${dist(r.verifyMs[b]!)}`,
      `cross-verify: @node-rs hash verified by argon2 ${r.crossVerify.nodeRsByArgon2}, argon2 hash verified by @node-rs ${r.crossVerify.argon2ByNodeRs}, wrong password refused by both ${r.crossVerify.wrongRefused}`,
      `PHC heads: ${Object.entries(r.phc)
        .map(([k, p]) => `${k} ${p.split('$').slice(0, 4).join('$')}`)
        .join('; ')}`,
    ];
    if (!r.crossVerify.nodeRsByArgon2 || !r.crossVerify.argon2ByNodeRs || !r.crossVerify.wrongRefused) {
      rows.push({ metric: 'argon2 PHC strings interoperate', value: 0, unit: 'bool', target: { op: '>=', value: 1, of: 'value' } });
    }
    return { rows, details };
  },
};
