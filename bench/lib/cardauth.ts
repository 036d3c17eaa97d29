import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../../dev/root';

export { ROOT };

/**
 * The code under test is the build in dist/ (`npm run build`), loaded at run
 * time. src/ is imported for types only (`typeof import(...)`), so the
 * compiler checks the bench against the current sources while the numbers
 * are taken on what ships.
 */

export const DIST = join(ROOT, 'dist');
/** The dev tools (the virtual reader, ports, the Redis launcher), built by `npm run build:dev`; never shipped. */
export const DEV_DIST = join(ROOT, 'dist-dev', 'dev');

const load = <T>(rel: string): T => require(join(DIST, rel)) as T;

export const cardauth = {
  get app() {
    return load<typeof import('../../src/app')>('app.js');
  },
  get services() {
    return load<typeof import('../../src/services')>('services.js');
  },
  get config() {
    return load<typeof import('../../src/config')>('config.js');
  },
  get redis() {
    return load<typeof import('../../src/redis')>('redis.js');
  },
  get ports() {
    return require(join(DEV_DIST, 'ports.js')) as typeof import('../../dev/ports');
  },
  get redisServer() {
    return require(join(DEV_DIST, 'redis-server.js')) as typeof import('../../dev/redis-server');
  },
  get passwordHasher() {
    return load<typeof import('../../src/policy/password-hasher')>('policy/password-hasher.js');
  },
  get signStatement() {
    return load<typeof import('../../src/card-agent/sign-statement')>('card-agent/sign-statement.js');
  },
  get auditLog() {
    return load<typeof import('../../src/audit/log')>('audit/log.js');
  },
  get oidcClients() {
    return load<typeof import('../../src/oidc/clients')>('oidc/clients.js');
  },
  get oidcKeys() {
    return load<typeof import('../../src/oidc/keys')>('oidc/keys.js');
  },
  get auditVerify() {
    return load<typeof import('../../src/audit/verify')>('audit/verify.js');
  },
  get auditRecord() {
    return load<typeof import('../../src/audit/record')>('audit/record.js');
  },
  get auditIndexer() {
    return load<typeof import('../../src/audit/indexer')>('audit/indexer.js');
  },
  get auditIndexJob() {
    return load<typeof import('../../src/audit/index-job')>('audit/index-job.js');
  },
  get auditCheckpoint() {
    return load<typeof import('../../src/audit/checkpoint')>('audit/checkpoint.js');
  },
  get auditKeys() {
    return load<typeof import('../../src/audit/keys')>('audit/keys.js');
  },
};

/** src/**.ts files whose dist/**.js is missing or older: the bench would measure stale code. */
export function staleDistFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
        const js = join(DIST, relative(join(ROOT, 'src'), p)).replace(/\.ts$/, '.js');
        if (!existsSync(js) || statSync(js).mtimeMs < statSync(p).mtimeMs) out.push(relative(ROOT, p));
      }
    }
  };
  walk(join(ROOT, 'src'));
  return out;
}

/** Modules loaded from dist-bench/src (would mean a value import of src slipped in). */
export function strayBenchSrcModules(): string[] {
  return Object.keys(require.cache).filter((k) => k.includes(`${join('dist-bench', 'src')}`));
}
