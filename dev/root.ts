import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The repository's root: the folder of cardauth's package.json above this
 * file. The dev tools run from dev/ (ts-jest) and from dist-dev/dev/ (the dev
 * build), so a fixed number of `..` would be right in only one of them.
 */
function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'cardauth') return dir;
    if (dirname(dir) === dir) throw new Error(`no cardauth package.json above ${from}`);
  }
}

export const ROOT = findRoot(__dirname);
/** The shipped command line (runs dist/). */
export const CARDAUTH_BIN = join(ROOT, 'bin', 'cardauth.js');
/** The dev tools' command line, built by `npm run build:dev`. */
export const DEV_BIN = join(ROOT, 'dist-dev', 'dev', 'cli.js');
