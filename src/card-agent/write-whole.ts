import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, linkSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `text` to `path` whole or not at all: a temp file in the same
 * folder (mode `mode`), flushed, then renamed over `path`, or with
 * `exclusive` linked to it, which leaves an existing file alone and answers
 * `false`. A crash or a reader at the same moment sees the old file or the
 * new one, never a truncated one. File-system errors are thrown as they are;
 * the caller says what they mean.
 *
 * @example
 * writeWhole(join(dir, 'agent.json'), JSON.stringify(enrollment), { mode: 0o600 });
 */
export function writeWhole(path: string, text: string, opts: { mode?: number; exclusive?: boolean } = {}): boolean {
  const mode = opts.mode ?? 0o644;
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fd = openSync(tmp, 'wx', mode);
    try {
      fchmodSync(fd, mode);
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (!opts.exclusive) {
      renameSync(tmp, path);
      return true;
    }
    try {
      linkSync(tmp, path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  } finally {
    rmSync(tmp, { force: true });
  }
}
