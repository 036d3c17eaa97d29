import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { staleDistFiles, strayBenchSrcModules } from './lib/cardauth';
import { Cleanup } from './lib/cleanup';
import { CORES } from './lib/proc';
import { fmt } from './lib/stats';
import { renderTable, verdict } from './lib/table';
import type { BenchContext, BenchOptions, Row } from './lib/types';
import { SECTIONS } from './sections';

/**
 * `npm run bench`: runs every section in order and prints one table. Every
 * figure is a ratio against a baseline measured in the same run (the machine
 * is noisy); absolute numbers are printed next to it.
 *
 * Options: --quick (half-length windows), --scale=X (window multiplier),
 * --only=id,id (sections: argon2, login, session, oidc, rss, audit, durability, audit-verify, audit-query, agent, workbench),
 * --diagnose (CPU profiles of the servers plus the what-if runs) /
 * --no-diagnose (none); by default the profiles run only for a section
 * whose target is missed,
 * --json=FILE.
 */

function parseArgs(argv: string[]): { options: BenchOptions; only?: string[]; json?: string } {
  const options: BenchOptions = { timeScale: 1, diagnose: 'auto' };
  let only: string[] | undefined;
  let json: string | undefined;
  for (const a of argv) {
    if (a === '--quick') options.timeScale = 0.5;
    else if (a.startsWith('--scale=')) options.timeScale = Number(a.slice(8));
    else if (a.startsWith('--only=')) only = a.slice(7).split(',');
    else if (a === '--diagnose') options.diagnose = true;
    else if (a === '--no-diagnose') options.diagnose = false;
    else if (a.startsWith('--json=')) json = a.slice(7);
    else throw new Error(`unknown option ${a}`);
  }
  if (!(options.timeScale > 0)) throw new Error('--scale must be > 0');
  return { options, ...(only ? { only } : {}), ...(json ? { json } : {}) };
}

function redisVersion(): string {
  try {
    return /v=(\S+)/.exec(execFileSync('redis-server', ['--version'], { encoding: 'utf8' }))?.[1] ?? '?';
  } catch {
    return 'not found';
  }
}

async function main(): Promise<number> {
  const { options, only, json } = parseArgs(process.argv.slice(2));
  const cleanup = new Cleanup();
  let stopping = false;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`\n${sig}: stopping children and removing temp dirs…\n`);
      void cleanup.runAll().finally(() => process.exit(130));
    });
  }

  const log = (m: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
  const stale = staleDistFiles();
  const started = performance.now();
  const header = [
    `cardauth bench — node ${process.version}, ${CORES} cores (${cpus()[0]?.model ?? '?'}), load avg ${loadavg()
      .map((x) => fmt(x, 2))
      .join(' ')}, redis-server ${redisVersion()}, window scale ${options.timeScale}`,
  ];
  if (stale.length) header.push(`WARNING: dist/ is older than src/ for ${stale.length} file(s) (${stale.slice(0, 3).join(', ')}…): run npm run build`);
  for (const h of header) log(h);

  const sections = SECTIONS.filter((s) => !only || only.includes(s.id));
  if (only) for (const id of only) if (!SECTIONS.some((s) => s.id === id)) throw new Error(`no section ${id}; have ${SECTIONS.map((s) => s.id).join(', ')}`);
  const rows: Array<Row & { section: string }> = [];
  const details: Array<{ section: string; title: string; lines: string[] }> = [];
  let failed = 0;
  const shared: Record<string, number> = {};
  try {
    for (const section of sections) {
      const t0 = performance.now();
      log(`— ${section.id}: ${section.title}`);
      try {
        const result = await cleanup.scope((c) => {
          const ctx: BenchContext = { options, cleanup: c, shared, log: (m) => log(`  ${m}`), ms: (s) => Math.round(s * 1000 * options.timeScale) };
          return section.run(ctx);
        });
        for (const r of result.rows) rows.push({ section: section.id, ...r });
        details.push({ section: section.id, title: section.title, lines: result.details });
      } catch (err) {
        failed++;
        const msg = err instanceof Error ? (err.stack ?? err.message) : String(err);
        log(`  ${section.id} FAILED: ${msg}`);
        rows.push({ section: section.id, metric: `${section.title}: did not complete`, value: NaN, unit: '', target: { op: '>=', value: 0, of: 'value' } });
        details.push({ section: section.id, title: section.title, lines: [`ERROR ${msg}`] });
      }
      log(`  (${fmt((performance.now() - t0) / 1000, 1)} s)`);
    }
  } finally {
    await cleanup.runAll();
  }

  const stray = strayBenchSrcModules();
  const out = [
    '',
    ...header,
    '',
    renderTable(rows),
    '',
    ...details.flatMap((d) => (d.lines.length ? [`[${d.section}] ${d.title}`, ...d.lines.map((l) => `  ${l}`), ''] : [])),
    `total ${fmt((performance.now() - started) / 1000, 1)} s; ${rows.filter((r) => verdict(r) === 'PASS').length} PASS, ${rows.filter((r) => verdict(r) === 'MISS').length} MISS${failed ? `, ${failed} section(s) failed` : ''}`,
  ];
  if (stray.length) out.push(`WARNING: the runner loaded src compiled into dist-bench instead of dist/: ${stray.join(', ')}`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (json) writeFileSync(json, JSON.stringify({ header, rows, details }, null, 2));
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
