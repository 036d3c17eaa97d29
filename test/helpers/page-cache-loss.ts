import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let built: string | undefined;

/**
 * The environment for a redis-server whose SIGKILL acts, on its append-only file, like a
 * machine crash: native/page-cache-loss.c (LD_PRELOAD) holds its AOF writes in memory until
 * fsync, as dirty pages are until they are flushed, so what was not fsynced is lost with the
 * process. Built once per test process with the system's C compiler.
 *
 * @example
 * const redis = await startRedis({ appendfsync: 'everysec', env: pageCacheLossEnv() });
 * await redis.kill('SIGKILL'); // = a power cut for the AOF
 */
export function pageCacheLossEnv(): NodeJS.ProcessEnv {
  if (!built) {
    const dir = mkdtempSync(join(tmpdir(), 'cardauth-pcl-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const out = join(dir, 'page-cache-loss.so');
    execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', out, join(__dirname, 'native', 'page-cache-loss.c'), '-ldl', '-lpthread']);
    built = out;
  }
  return { ...process.env, LD_PRELOAD: built };
}
