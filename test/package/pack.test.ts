import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { TEST_SECRET } from '../helpers/app';
import { freePort, startRedis, type TestRedis } from '../helpers/redis';

// `npm pack`, installed into a clean host project from the npm registry (the only network it
// uses), type-checked under the host's strict tsconfig and run against a real redis-server.
// Slow (the install builds the native modules): its own timeout.
jest.setTimeout(15 * 60_000);

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const pkg = require('../../package.json') as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

/** Runs a command in dir; on failure the error carries its output. */
async function sh(dir: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  try {
    return await run(cmd, args, { cwd: dir, env, maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

const HOST_TS = `import express from 'express';
import Redis from 'ioredis';
import { createCardauth, loadServerConfig, type Cardauth, type CardauthOptions, type LoggedInRequest, type ServerConfig } from 'cardauth';

const config: ServerConfig = loadServerConfig(process.env);
// The host's own ioredis client, failing fast as CardauthOptions asks.
const redis = new Redis(config.REDIS_URL, { enableOfflineQueue: false, commandTimeout: 2000 });
const options: CardauthOptions = { config, redis };
const cardauth: Cardauth = createCardauth(options);
const app = express();
app.set('trust proxy', config.CARDAUTH_TRUST_PROXY);
app.use(cardauth.router);
app.get('/patients', cardauth.requireLogin(), (req, res) => {
  res.send((req as LoggedInRequest).user.displayName);
});
const server = app.listen(Number(process.env['HOST_PORT']), '127.0.0.1', () => {
  const pcsclite = Object.keys(require.cache).some((f) => /[\\\\/]pcsclite[\\\\/]/.test(f));
  process.stdout.write(JSON.stringify({ listening: true, pcsclite }) + '\\n');
});
process.once('SIGTERM', () => {
  server.close();
  void cardauth.close().then(() => redis.quit());
});
`;

const HOST_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'node16',
    moduleResolution: 'node16',
    types: ['node'],
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    skipLibCheck: false,
    esModuleInterop: true,
    outDir: 'out',
  },
  files: ['host.ts'],
};

describe('npm pack, installed in a clean host project', () => {
  let tmp: string;
  let host: string;
  let files: string[];
  let redis: TestRedis | undefined;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'cardauth-pack-'));
    // Packed from a copy of the project, where `prepare` builds its own dist/: rebuilding the
    // project's dist/ would change files under the feet of tests running the CLI meanwhile.
    const copy = join(tmp, 'project');
    cpSync(ROOT, copy, { recursive: true, filter: (f) => !/^(node_modules|dist|dist-bench|dist-dev|var|coverage|\.git)$/.test(relative(ROOT, f).split(sep)[0] ?? '') });
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    await sh(copy, 'npm', ['pack', '--pack-destination', tmp, '--silent']);
    const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack wrote no tarball into ${tmp}`);
    files = (await sh(tmp, 'tar', ['-tzf', tarball])).stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));

    host = join(tmp, 'host');
    mkdirSync(host);
    writeFileSync(join(host, 'package.json'), JSON.stringify({ name: 'host-mis', version: '1.0.0', private: true }));
    writeFileSync(join(host, 'tsconfig.json'), JSON.stringify(HOST_TSCONFIG, null, 2));
    writeFileSync(join(host, 'host.ts'), HOST_TS);
    const deps = [`express@${pkg.dependencies['express']}`, `ioredis@${pkg.dependencies['ioredis']}`, `typescript@${pkg.devDependencies['typescript']}`, `@types/node@${pkg.devDependencies['@types/node']}`];
    // The optional pcsclite builds here if it can; a failed build must not fail the install.
    await sh(host, 'npm', ['install', join(tmp, tarball), ...deps, '--no-audit', '--no-fund', '--ignore-scripts=false', '--prefer-offline', '--loglevel=error']);
  });
  afterAll(async () => {
    await redis?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('the tarball holds what ships (dist, bin, views, docs, examples) and no sources, tests, benchmarks or dev tooling', () => {
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'bin/cardauth.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'views/login.ejs', 'docs/integration.md']));
    const top = [...new Set(files.map((f) => f.split('/')[0]))].sort();
    expect(top).toEqual(['README.md', 'bin', 'dist', 'docs', 'examples', 'package.json', 'views']);
    expect(files.filter((f) => /\.test\.|(^|\/)(test|bench|helpers)\//.test(f))).toEqual([]);
  });

  it('no dev/ tool ships (demo, virtual card and reader, Redis launcher), as source or built, and the public index exports none', () => {
    expect(files.filter((f) => /^(dev|dist-dev)\/|^dist\/(dev|demo)\//.test(f))).toEqual([]);
    expect(files.filter((f) => /(^|\/)(vpcd-card|virtual-reader|redis-server|child-process|demo-routes|card-tap)\.(js|d\.ts)$/.test(f))).toEqual([]);
    const index = readFileSync(join(host, 'node_modules', 'cardauth', 'dist', 'index.d.ts'), 'utf8');
    expect(index).not.toMatch(/createVirtualCard|dev\//);
  });

  it("a host's strict TypeScript (skipLibCheck off) type-checks its use of the public types", async () => {
    await sh(host, join(host, 'node_modules', '.bin', 'tsc'), ['-p', '.']);
    expect(existsSync(join(host, 'out', 'host.js'))).toBe(true);
  });

  it('the host runs: cardauth answers GET /login, requireLogin sends a visitor to it, and pcsclite is never loaded', async () => {
    redis = await startRedis();
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const env = { ...process.env, REDIS_URL: redis.url, CARDAUTH_PUBLIC_ORIGIN: origin, CARDAUTH_SESSION_SECRET: TEST_SECRET, HOST_PORT: String(port) };
    const proc = spawn(process.execPath, [join(host, 'out', 'host.js')], { cwd: host, env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const started = await new Promise<{ pcsclite: boolean }>((resolve, reject) => {
        let out = '';
        proc.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const line = out.split('\n').find((l) => l.startsWith('{"listening"'));
          if (line) resolve(JSON.parse(line) as { pcsclite: boolean });
        });
        proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
        proc.once('exit', (code) => reject(new Error(`the host exited ${code}:\n${out}`)));
      });
      expect(started.pcsclite).toBe(false);

      const login = await fetch(`${origin}/login`);
      expect(login.status).toBe(200);
      const patients = await fetch(`${origin}/patients`, { redirect: 'manual' });
      expect(patients.status).toBe(303);
      expect(patients.headers.get('location')).toBe('/login?next=%2Fpatients');
    } finally {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
  });

  it('without pcsclite (a server-only install, or its build failed) the agent says how to install it, in one line with no stack', async () => {
    // As npm leaves it when the optional build fails, or after `npm install --omit=optional`.
    rmSync(join(host, 'node_modules', 'pcsclite'), { recursive: true, force: true });
    const env = { ...process.env, CARDAUTH_AGENT_ORIGINS: 'http://127.0.0.1:1', CARDAUTH_AGENT_SERVER: 'http://127.0.0.1:1', CARDAUTH_AGENT_DIR: join(tmp, 'agent') };
    const r = await run(process.execPath, [join(host, 'node_modules', '.bin', 'cardauth'), 'agent', 'run'], { cwd: host, env }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([expect.stringMatching(/^cardauth: unavailable: the card agent needs the optional native package pcsclite, .*install libpcsclite-dev/)]);
    expect(existsSync(join(tmp, 'agent'))).toBe(false);
  });
});
