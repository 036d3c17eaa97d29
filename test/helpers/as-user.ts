import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * `GET url` with this Origin from a child process running as OS user `uid`
 * (through `setpriv`: the tests run as root), as another user's browser on a
 * terminal server would: the HTTP status as text, or `error`.
 *
 * @example
 * expect(await statusAsUser(65534, `${agent.url}/v1/status`, origin)).toBe('403');
 */
export async function statusAsUser(uid: number, url: string, origin: string): Promise<string> {
  const script = `fetch(${JSON.stringify(url)}, { headers: { origin: ${JSON.stringify(origin)} } }).then((r) => console.log(r.status), () => console.log('error'))`;
  const me = process.getuid?.();
  const args = uid === me ? [process.execPath, '-e', script] : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', process.execPath, '-e', script];
  const { stdout } = await run(args[0]!, args.slice(1));
  return stdout.trim();
}
