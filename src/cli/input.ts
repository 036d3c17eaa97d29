import { UsageError } from './args';

/** What the CLI reads a password from (process.stdin). */
export type In = Pick<NodeJS.ReadableStream, 'on' | 'off' | 'pause' | 'resume'> & { isTTY?: boolean; destroy?(): unknown };

/** The same bound as POST /auth/password: a longer password could never log in. */
export const MAX_PASSWORD = 1024;
const MAX_READ = 64 * 1024;

/**
 * Reads the first line of stdin as a password (`--password-stdin`): up to the
 * first newline or the end, without the newline (`\n` or `\r\n`); nothing else
 * is trimmed; the rest of stdin is not read (stdin is closed). Refuses a
 * terminal (the password would echo), an empty line and more than 1024
 * characters. The bytes read are zeroed afterwards.
 *
 * @example
 * // printf '%s\n' "$PASSWORD" | cardauth account create … --password-stdin
 * const password = await readPasswordLine('account create', process.stdin);
 */
export async function readPasswordLine(command: string, stdin: In): Promise<string> {
  if (stdin.isTTY) {
    throw new UsageError(`${command}: --password-stdin: stdin is a terminal, where the password would echo; pipe it in instead`);
  }
  const chunks: Buffer[] = [];
  const bytes = await new Promise<Buffer>((resolve, reject) => {
    let size = 0;
    const finish = (err?: Error) => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.off('error', onError);
      stdin.pause();
      // Only the first line is ours; an open pipe must not keep the process alive.
      stdin.destroy?.();
      if (err) reject(err);
      else resolve(Buffer.concat(chunks));
    };
    const onData = (chunk: Buffer | string) => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      chunks.push(b);
      size += b.length;
      if (b.includes(0x0a)) finish();
      else if (size > MAX_READ) finish(new UsageError(`${command}: --password-stdin: no end of line in the first ${MAX_READ} bytes of stdin`));
    };
    const onEnd = () => finish();
    const onError = (err: Error) => finish(new UsageError(`${command}: --password-stdin: cannot read stdin (${err.message})`));
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.on('error', onError);
    stdin.resume();
  });
  try {
    const nl = bytes.indexOf(0x0a);
    const line = bytes.subarray(0, nl === -1 ? bytes.length : nl);
    const password = line.toString('utf8').replace(/\r$/, '');
    if (password.length === 0) throw new UsageError(`${command}: --password-stdin: the first line of stdin is empty; no password given`);
    if (password.length > MAX_PASSWORD) throw new UsageError(`${command}: --password-stdin: the password is longer than ${MAX_PASSWORD} characters`);
    return password;
  } finally {
    bytes.fill(0);
    for (const c of chunks) c.fill(0);
  }
}
