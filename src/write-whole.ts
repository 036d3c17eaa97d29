import { randomBytes } from 'node:crypto';
import { closeSync, constants, copyFileSync, fchmodSync, fsyncSync, linkSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** A file being written whole: nothing shows at its path until {@link StagedFile.commit}. */
export interface StagedFile {
  write(chunk: string | Uint8Array): void;
  /** Flushes and puts the file at its path; answers `false` (and leaves the old file) when `exclusive` and one exists. */
  commit(): boolean;
  /** Removes what was staged; safe after commit, and to call twice. */
  discard(): void;
}

/**
 * Starts writing `path` whole or not at all: a temp file in the same folder
 * (mode `mode`) takes the writes; `commit` flushes it, then renames it over
 * `path`, or with `exclusive` links it there (copies it, on a file system
 * without hard links), which leaves an existing file alone. A crash or a reader at the same moment sees the old file or the new
 * one, never a truncated one. File-system errors are thrown as they are; the
 * caller says what they mean.
 *
 * @example
 * const file = stageWhole('audit.csv', { mode: 0o600, exclusive: true });
 * try { for (const line of lines) file.write(line); if (!file.commit()) throw new Error('exists'); } finally { file.discard(); }
 */
export function stageWhole(path: string, opts: { mode?: number; exclusive?: boolean } = {}): StagedFile {
  const mode = opts.mode ?? 0o644;
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined = openSync(tmp, 'wx', mode);
  const close = () => {
    if (fd === undefined) return;
    const open = fd;
    fd = undefined;
    closeSync(open);
  };
  try {
    fchmodSync(fd, mode);
  } catch (err) {
    close();
    rmSync(tmp, { force: true });
    throw err;
  }
  return {
    write(chunk) {
      if (fd === undefined) throw new Error(`stageWhole: ${path} is no longer open`);
      // writeSync may write less than asked (a nearly full disk) without an error: write the rest.
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    },
    commit() {
      if (fd === undefined) throw new Error(`stageWhole: ${path} is no longer open`);
      fsyncSync(fd);
      close();
      if (!opts.exclusive) {
        renameSync(tmp, path);
        return true;
      }
      try {
        linkSync(tmp, path);
        return true;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') return false;
        // File systems without hard links (FAT on a USB stick): an exclusive copy instead.
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
        return copyExclusive(tmp, path);
      } finally {
        rmSync(tmp, { force: true });
      }
    },
    discard() {
      close();
      rmSync(tmp, { force: true });
    },
  };
}

/** Copies `from` to a new `to` and flushes it; `false` when `to` exists. A copy that fails part way is removed (a crash mid-copy can leave it partial: no hard links, no atomic step). */
function copyExclusive(from: string, to: string): boolean {
  try {
    copyFileSync(from, to, constants.COPYFILE_EXCL);
    const fd = openSync(to, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    rmSync(to, { force: true });
    throw err;
  }
}

/**
 * Writes `text` to `path` whole or not at all ({@link stageWhole}); answers
 * `false` when `exclusive` and the file exists.
 *
 * @example
 * writeWhole(join(dir, 'agent.json'), JSON.stringify(enrollment), { mode: 0o600 });
 */
export function writeWhole(path: string, text: string, opts: { mode?: number; exclusive?: boolean } = {}): boolean {
  const file = stageWhole(path, opts);
  try {
    file.write(text);
    return file.commit();
  } finally {
    file.discard();
  }
}
