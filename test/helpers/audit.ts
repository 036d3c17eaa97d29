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
