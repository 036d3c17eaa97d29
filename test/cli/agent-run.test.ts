import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliEnv, oneErrorLine, runCli } from './support';

// `cardauth agent enroll` against a stand-in server that answers POST /agents/enroll.
let server: Server;
let url: string;
let answer: { status: number; body: unknown };
let root: string;
let n = 0;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cardauth-agent-run-'));
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(req.method === 'POST' && req.url === '/agents/enroll' ? answer.status : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(root, { recursive: true, force: true });
});

const newDir = () => join(root, `agent${++n}`);
const enroll = (dir: string) => runCli(['agent', 'enroll', '--server', url, '--name', 'Кабинет 12'], { env: cliEnv({ CARDAUTH_AGENT_DIR: dir }) });
const accepted = (id: string) => ({ status: 200, body: { id, fingerprint: 'f', status: 'pending' } });

describe('agent enroll', () => {
  it("a refusal by the server names the code once, and says how to enroll a new key when the server knows this one", async () => {
    const dir = newDir();
    answer = { status: 409, body: { error: { code: 'agent_state', message: 'this key is already registered as agent ag_0123456789abcdef' } } };
    const r = await enroll(dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(oneErrorLine(r)).toBe(
      `cardauth: agent_state: the server refused: this key is already registered as agent ag_0123456789abcdef; move agent-key.json and agent.json out of ${dir}, then run \`cardauth agent enroll\` again (a new key is made)`,
    );
  });

  it('a refusal with another code is not repeated either', async () => {
    answer = { status: 400, body: { error: { code: 'bad_request', message: 'name: too long' } } };
    const r = await enroll(newDir());
    expect(r.code).toBe(1);
    expect(oneErrorLine(r)).toBe('cardauth: bad_request: the server refused: name: too long');
  });

  it('already enrolled: says which files in CARDAUTH_AGENT_DIR to move, and moving them does enroll a new key', async () => {
    const dir = newDir();
    answer = accepted('ag_00000000000000a1');
    const first = await enroll(dir);
    expect(first.code).toBe(0);
    const fingerprint = /^fingerprint: (\S+)$/m.exec(first.stdout)?.[1];
    expect(fingerprint).toBeDefined();

    const again = await enroll(dir);
    expect(again.code).toBe(1);
    expect(oneErrorLine(again)).toBe(
      `cardauth: agent_state: already enrolled with ${url} as ag_00000000000000a1; fingerprint ${fingerprint}; move agent-key.json and agent.json out of ${dir}, then run \`cardauth agent enroll\` again (a new key is made)`,
    );

    const aside = join(root, `aside${n}`);
    mkdirSync(aside);
    for (const f of ['agent-key.json', 'agent.json']) renameSync(join(dir, f), join(aside, f));
    answer = accepted('ag_00000000000000a2');
    const fresh = await enroll(dir);
    expect(fresh.stderr).toBe('');
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).toContain('as ag_00000000000000a2');
    expect(fresh.stdout).not.toContain(`fingerprint: ${fingerprint}`);
  });

  it('a damaged key file is config_invalid (exit 2) naming it, not an internal error', async () => {
    const dir = newDir();
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, 'agent-key.json'), 'null', { mode: 0o600 });
    const r = await enroll(dir);
    expect(r.code).toBe(2);
    expect(oneErrorLine(r)).toBe(
      `cardauth: config_invalid: ${join(dir, 'agent-key.json')}: not an Ed25519 private key; move agent-key.json and agent.json out of ${dir}, then run \`cardauth agent enroll\` again (a new key is made)`,
    );
    expect(readdirSync(dir)).toEqual(['agent-key.json']);
  });

  it('CARDAUTH_AGENT_DIR under a regular file is config_invalid (exit 2) naming it', async () => {
    const file = join(root, `file${++n}`);
    writeFileSync(file, '');
    const r = await enroll(join(file, 'agent'));
    expect(r.code).toBe(2);
    expect(oneErrorLine(r)).toBe(`cardauth: config_invalid: CARDAUTH_AGENT_DIR ${join(file, 'agent')}: cannot create the folder (ENOTDIR); it must be a folder this user can write`);
  });
});
