import type Redis from 'ioredis';

/** Audit records as stored (the `r` JSON of each stream entry), oldest first. */
export async function auditRecords(redis: Redis, type?: string): Promise<Array<Record<string, any>>> {
  const entries = await redis.xrange('audit:log', '-', '+');
  const records = entries.map(([, fields]) => JSON.parse(fields[1]!) as Record<string, any>);
  return type ? records.filter((r) => r.type === type) : records;
}

/** The newest record of a type. */
export async function lastAudit(redis: Redis, type: string): Promise<Record<string, any> | undefined> {
  const all = await auditRecords(redis, type);
  return all[all.length - 1];
}

/**
 * Runs `fn` while the audit trail is unusable: `audit:log` is a string, not a
 * stream, so reading its head or appending to it fails as a damaged trail
 * does. The real stream (if any) is put back afterwards, even when `fn` throws.
 *
 * @example
 * const res = await withAuditUnusable(redis.client(), () => client.post('/auth/card', { statement }));
 */
export async function withAuditUnusable<T>(client: Pick<Redis, 'rename' | 'set' | 'del' | 'exists'>, fn: () => Promise<T>): Promise<T> {
  const saved = (await client.exists('audit:log')) === 1;
  if (saved) await client.rename('audit:log', 'audit:log:saved');
  await client.set('audit:log', 'not a stream');
  try {
    return await fn();
  } finally {
    await client.del('audit:log');
    if (saved) await client.rename('audit:log:saved', 'audit:log');
  }
}
