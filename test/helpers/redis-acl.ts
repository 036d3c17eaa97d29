import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { startRedis, type TestRedis } from './redis';

/** The users of docs/redis-acl.conf. */
export type AclUser = 'cardauth' | 'cardauth-admin' | 'cardauth-siem' | 'cardauth-archivist';

export interface AclRedis extends TestRedis {
  /** `redis://USER:PASSWORD@127.0.0.1:PORT` for one of the users of docs/redis-acl.conf. */
  urlAs(user: AclUser): string;
  /** That user's password (to check it never shows). */
  passwordOf(user: AclUser): string;
  /** A plain ioredis client logged in as `user`; closed by stop(). */
  clientAs(user: AclUser): Redis;
}

const ACL_CONF = join(__dirname, '..', '..', 'docs', 'redis-acl.conf');

/**
 * A real redis-server with the users of docs/redis-acl.conf loaded from an ACL file (the
 * shipped lines without their comments, each CHANGE-ME replaced with a test password), and
 * the default user left unrestricted for the test's own client() (seeding, checking).
 *
 * @example
 * const redis = await startAclRedis();
 * const app = new Redis(redis.urlAs('cardauth'));
 * await app.del('audit:log'); // rejects: NOPERM
 */
export async function startAclRedis(): Promise<AclRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'cardauth-acl-'));
  const file = join(dir, 'users.acl');
  const lines = readFileSync(ACL_CONF, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => l.replace(/>CHANGE-ME-([a-z]+)/, '>acl-test-pw-$1'));
  writeFileSync(file, ['user default on nopass ~* &* +@all', ...lines, ''].join('\n'));
  const redis = await startRedis({ extraArgs: ['--aclfile', file] });
  const passwordOf = (user: AclUser) => `acl-test-pw-${user === 'cardauth' ? 'app' : user.slice('cardauth-'.length)}`;
  const urlAs = (user: AclUser) => `redis://${user}:${passwordOf(user)}@127.0.0.1:${redis.port}`;
  const clients: Redis[] = [];
  return {
    ...redis,
    urlAs,
    passwordOf,
    clientAs(user) {
      const c = new Redis(urlAs(user), { maxRetriesPerRequest: 1 });
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.disconnect();
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
