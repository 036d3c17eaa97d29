import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Where this process's PC/SC client (libpcsclite) connects: one stable
 * symlink per process, `$TMPDIR/cardauth-pcsc-<pid>.comm`, which a test pcscd
 * (`startPcscd`) points at itself while it runs. Nothing is behind it
 * otherwise, so a client sees "Service not available", never a system pcscd.
 *
 * libpcsclite reads `PCSCLITE_CSOCK_NAME` once per process, at its first
 * call, and keeps it even when that call failed. A Jest worker runs many test
 * files, so the path must be set before any of them can load pcsclite: the
 * Jest setup file `pcsc-client.setup.ts` calls this before every test file.
 * It is set in the real environment with `process.loadEnvFile` (Jest's
 * `process.env` is only a copy); child processes inherit it.
 *
 * @example
 * const link = pointPcscClient(); // then re-point `link` at a pcscd's socket
 */
export function pointPcscClient(): string {
  const link = join(tmpdir(), `cardauth-pcsc-${process.pid}.comm`);
  const current = process.env.PCSCLITE_CSOCK_NAME;
  if (current === link) return link;
  // jest.config.js drops a value inherited from the shell, and process.loadEnvFile would not replace one.
  if (current !== undefined) throw new Error(`PCSCLITE_CSOCK_NAME is already "${current}" in this process; run the tests without it set`);
  const scratch = mkdtempSync(join(tmpdir(), 'cardauth-pcsc-env-'));
  try {
    const file = join(scratch, 'pcsc.env');
    writeFileSync(file, `PCSCLITE_CSOCK_NAME=${link}\n`);
    process.loadEnvFile(file); // sets the real environment
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  process.env.PCSCLITE_CSOCK_NAME = link; // and this test file's copy
  return link;
}
