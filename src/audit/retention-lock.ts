import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CardauthError } from '../errors';

/** The lock file of a run, in the archive folder (not `.retain.lock`: the cron line's `flock` may hold that one). */
const RETAIN_LOCK = '.audit-retain.lock';
/** A lock older than this is a run that stopped without removing it, and is taken over. */
const RETAIN_LOCK_STALE_MS = 3_600_000;

const code = (err: unknown) => (err as NodeJS.ErrnoException).code;

/** The `time` a lock file was taken at (ms), or undefined when it cannot be read. */
function takenAt(path: string): number | undefined {
  try {
    const t = Date.parse((JSON.parse(readFileSync(path, 'utf8')) as { time?: unknown }).time as string);
    return Number.isFinite(t) ? t : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the run's lock in the archive folder `dir`: `.audit-retain.lock`, created with O_EXCL
 * and holding the pid and the time (the injected clock's `now`), so two runs never work on the
 * same folder at once (the second could remove the first's archive as a leftover). A lock
 * taken more than an hour before `now` (a run that crashed) is taken over: moved aside with a
 * rename (of two runs taking it over, one moves it; the other then finds the winner's lock and
 * refuses), then created again. A lock that is held refuses the run with a usage error that
 * names the file. A folder that does not exist takes no lock: a run there writes nothing, so
 * it trims nothing either. Returns the release, which removes the lock if it is still this run's.
 *
 * @example
 * const release = takeRetentionLock(dir, clock.now());
 * try { ... } finally { release(); }
 */
export function takeRetentionLock(dir: string, now: number): () => void {
  const path = join(dir, RETAIN_LOCK);
  const mine = `${JSON.stringify({ pid: process.pid, time: new Date(now).toISOString() })}\n`;
  const create = (): boolean | 'no_dir' => {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (err) {
      if (code(err) === 'EEXIST') return false;
      if (code(err) === 'ENOENT') return 'no_dir';
      throw new CardauthError('unavailable', `audit retention: cannot create the lock ${path}`, { cause: err });
    }
    try {
      writeSync(fd, mine);
    } finally {
      closeSync(fd);
    }
    return true;
  };
  const held = (since: number | undefined) =>
    new CardauthError('usage', `audit retain: another run holds ${path}${since === undefined ? '' : ` (since ${new Date(since).toISOString()})`}; wait for it to end, or remove the file if no run is going`);
  const release = () => {
    try {
      if (readFileSync(path, 'utf8') === mine) rmSync(path, { force: true });
    } catch {
      // gone already
    }
  };

  const first = create();
  if (first === 'no_dir') return () => undefined;
  if (first) return release;
  const since = takenAt(path);
  if (since === undefined || now - since < RETAIN_LOCK_STALE_MS) throw held(since);
  const aside = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if (code(err) !== 'ENOENT') throw new CardauthError('unavailable', `audit retention: cannot move the stale lock ${path} aside`, { cause: err });
  }
  // What was moved aside must be the stale lock read, not one another run took meanwhile.
  const moved = takenAt(aside);
  if (moved !== undefined && moved !== since) {
    renameSync(aside, path);
    throw held(moved);
  }
  rmSync(aside, { force: true });
  if (create() !== true) throw held(takenAt(path));
  return release;
}
