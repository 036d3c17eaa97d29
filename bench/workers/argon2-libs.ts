import { serveRpc } from '../lib/children';

/**
 * Runs in its own process: `argon2` is a native addon whose prebuilt binary
 * has crashed on load on this machine kind before; a crash here fails one
 * section instead of the whole run.
 */

export interface Argon2LibParams {
  memoryKiB: number;
  time: number;
  parallelism: number;
  rounds: number;
  perRound: number;
}

export interface Argon2LibResult {
  versions: Record<string, string>;
  hashMs: Record<string, number[]>;
  verifyMs: Record<string, number[]>;
  /** Each library verifies the other's PHC string (and refuses a wrong password). */
  crossVerify: { nodeRsByArgon2: boolean; argon2ByNodeRs: boolean; wrongRefused: boolean };
  phc: Record<string, string>;
}

interface Lib {
  hash(pw: string): Promise<string>;
  verify(phc: string, pw: string): Promise<boolean>;
}

const PASSWORD = 'correct horse battery staple';

async function run(p: Argon2LibParams): Promise<Argon2LibResult> {
  // Loaded here, not at the top, so a crash on load is reported as this section's failure.
  const nodeRs = require('@node-rs/argon2') as typeof import('@node-rs/argon2');
  const argon2 = require('argon2') as typeof import('argon2');
  const libs: Record<string, Lib> = {
    '@node-rs/argon2': {
      hash: (pw) => nodeRs.hash(pw, { algorithm: 2 as const, memoryCost: p.memoryKiB, timeCost: p.time, parallelism: p.parallelism }),
      verify: (phc, pw) => nodeRs.verify(phc, pw),
    },
    argon2: {
      hash: (pw) => argon2.hash(pw, { type: argon2.argon2id, memoryCost: p.memoryKiB, timeCost: p.time, parallelism: p.parallelism }),
      verify: (phc, pw) => argon2.verify(phc, pw),
    },
  };
  const names = Object.keys(libs);
  const phc: Record<string, string> = {};
  const hashMs: Record<string, number[]> = {};
  const verifyMs: Record<string, number[]> = {};
  for (const n of names) {
    phc[n] = await libs[n]!.hash(PASSWORD);
    for (let i = 0; i < 2; i++) await libs[n]!.verify(phc[n]!, PASSWORD); // warm-up
    hashMs[n] = [];
    verifyMs[n] = [];
  }
  // One operation at a time; the libraries alternate every round so drift in machine load hits both.
  for (let r = 0; r < p.rounds; r++) {
    const order = r % 2 === 0 ? names : [...names].reverse();
    for (const n of order) {
      const lib = libs[n]!;
      for (let i = 0; i < p.perRound; i++) {
        const t = performance.now();
        await lib.hash(PASSWORD);
        hashMs[n]!.push(performance.now() - t);
      }
      for (let i = 0; i < p.perRound; i++) {
        const t = performance.now();
        if (!(await lib.verify(phc[n]!, PASSWORD))) throw new Error(`${n}: verify of its own hash failed`);
        verifyMs[n]!.push(performance.now() - t);
      }
    }
  }
  const crossVerify = {
    nodeRsByArgon2: await libs.argon2!.verify(phc['@node-rs/argon2']!, PASSWORD),
    argon2ByNodeRs: await libs['@node-rs/argon2']!.verify(phc.argon2!, PASSWORD),
    wrongRefused: !(await libs.argon2!.verify(phc['@node-rs/argon2']!, 'wrong')) && !(await libs['@node-rs/argon2']!.verify(phc.argon2!, 'wrong')),
  };
  const version = (pkg: string) => (require(`${pkg}/package.json`) as { version: string }).version;
  return { versions: { '@node-rs/argon2': version('@node-rs/argon2'), argon2: version('argon2') }, hashMs, verifyMs, crossVerify, phc };
}

if (require.main === module) {
  serveRpc({ run: (arg) => run(arg as Argon2LibParams) }, null);
}
