import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { fmt } from './stats';

/** Starts the V8 CPU profiler in this process; the returned function stops it and writes the profile. */
export async function startProfile(samplingIntervalUs = 500): Promise<(file: string) => Promise<void>> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: samplingIntervalUs });
  await post('Profiler.start');
  return async (file) => {
    const { profile } = (await post('Profiler.stop')) as { profile: CpuProfile };
    session.disconnect();
    writeFileSync(file, JSON.stringify(profile));
  };
}

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Which bucket a frame's self time goes to: a package, a file of cardauth, a node internal, or V8's own. */
function bucketOf(url: string, fn: string): string {
  if (url.includes('bench/lib/profile')) return '(profiler)';
  if (!url) {
    if (fn === '(garbage collector)' || fn === '(idle)' || fn === '(program)') return fn;
    return fn ? `(native) ${fn}` : '(native)';
  }
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const own = /\/dist\/(.+)\.js$/.exec(url);
  if (own) return `cardauth ${own[1]}`;
  if (url.startsWith('node:')) {
    const m = /^node:(?:internal\/)?([^/]+(?:\/[^/]+)?)/.exec(url);
    return `node:${m?.[1] ?? url}`;
  }
  return url;
}

/** Each sample's bucket (native frames carry their nearest non-node caller) and duration in µs. */
function sampleBuckets(profile: CpuProfile): Array<{ bucket: string; node: CpuProfileNode; us: number }> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  /** A native frame's time is shown with the package of the nearest JS caller ("writev ← express-session"). */
  const bucketWithCaller = (n: CpuProfileNode): string => {
    const b = bucketOf(n.callFrame.url, n.callFrame.functionName);
    if (!b.startsWith('(native)')) return b;
    for (let p = parent.get(n.id); p !== undefined; p = parent.get(p)) {
      const pn = byId.get(p)!;
      if (pn.callFrame.url.includes('bench/lib/profile')) return '(profiler)';
      if (pn.callFrame.url && !pn.callFrame.url.startsWith('node:')) return `${b} ← ${bucketOf(pn.callFrame.url, pn.callFrame.functionName)}`;
    }
    return b;
  };
  const out: Array<{ bucket: string; node: CpuProfileNode; us: number }> = [];
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (node) out.push({ bucket: bucketWithCaller(node), node, us: profile.timeDeltas[i] ?? 0 });
  });
  return out;
}

/** Self time (ms per op) of the JS thread per bucket, idle and the profiler left out. */
export function profileBuckets(profile: CpuProfile, ops: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const { bucket, us } of sampleBuckets(profile)) {
    if (bucket === '(idle)' || bucket === '(profiler)') continue;
    out.set(bucket, (out.get(bucket) ?? 0) + us / 1000 / Math.max(ops, 1));
  }
  return out;
}

/**
 * Self time of the JS thread grouped by package / file, largest first, as
 * lines "  42.1%  12.3 ms/op  express". `ops` divides the time per operation.
 */
export function summariseProfile(profile: CpuProfile, ops: number, top = 14): string[] {
  const selfUs = new Map<string, number>();
  const fnUs = new Map<string, number>();
  let total = 0;
  for (const { bucket: b, node: n, us: dt } of sampleBuckets(profile)) {
    selfUs.set(b, (selfUs.get(b) ?? 0) + dt);
    if (b !== '(idle)' && b !== '(profiler)') {
      const f = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url ? `${b}:${n.callFrame.lineNumber + 1}` : b}`;
      fnUs.set(f, (fnUs.get(f) ?? 0) + dt);
    }
    total += dt;
  }
  // The profiler's own work (answering Profiler.stop) is not the server's.
  const idle = (selfUs.get('(idle)') ?? 0) + (selfUs.get('(profiler)') ?? 0);
  selfUs.delete('(profiler)');
  const busy = total - idle;
  const lines = [
    `JS thread: ${fmt(total / 1000)} ms sampled, not idle ${fmt((busy / total) * 100, 1)}% (${fmt(busy / 1000 / Math.max(ops, 1), 3)} ms/op over ${ops} ops). Samples are wall-clock: time the thread sat preempted inside a call (e.g. a socket write that woke redis-server) counts as that call. Self time by package (share of not-idle):`,
  ];
  const rows = [...selfUs.entries()].filter(([b]) => b !== '(idle)').sort((a, b) => b[1] - a[1]);
  for (const [b, us] of rows.slice(0, top)) {
    lines.push(`  ${fmt((us / busy) * 100, 1).padStart(5)}%  ${fmt(us / 1000 / Math.max(ops, 1), 3).padStart(7)} ms/op  ${b}`);
  }
  lines.push('  hottest functions (self):');
  for (const [f, us] of [...fnUs.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8)) {
    lines.push(`  ${fmt((us / busy) * 100, 1).padStart(5)}%  ${f}`);
  }
  return lines;
}

/**
 * A sample's owner, by script URL: `anywhere` rules claim a sample when any frame of its stack
 * matches (in order: a socket write inside the OIDC adapter is the adapter's); otherwise the
 * frame nearest the leaf that a `nearest` rule matches decides (the root of every request is
 * express and cardauth's router, so only the nearest counts).
 */
export type Owner = { name: string; url: RegExp; anywhere?: boolean };

/**
 * The JS thread's time by owner, ms per op, largest first (`owners` as above; a sample no rule
 * claims goes to its own bucket: GC, node internals). Unlike self time, work a package's call
 * does in node (socket writes, hashing) counts for that package. Async continuations start a
 * new stack: a reply ioredis parses is ioredis's, whoever sent the command.
 */
export function profileOwners(profile: CpuProfile, ops: number, owners: readonly Owner[]): Array<[string, number]> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const ownerOf = new Map<number, string>();
  const owner = (id: number): string => {
    const known = ownerOf.get(id);
    if (known) return known;
    const urls: string[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) urls.push(byId.get(at)!.callFrame.url);
    const leaf = byId.get(id)!.callFrame;
    const claimed = urls.some((u) => u.includes('bench/lib/profile'))
      ? '(profiler)'
      : (owners.find((o) => o.anywhere && urls.some((u) => o.url.test(u)))?.name ??
        urls.map((u) => owners.find((o) => !o.anywhere && o.url.test(u))?.name).find((n) => n !== undefined));
    const o = claimed ?? (leaf.url ? bucketOf(leaf.url, leaf.functionName) : leaf.functionName || '(native)');
    ownerOf.set(id, o);
    return o;
  };
  const out = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const o = owner(id);
    if (o === '(idle)' || o === '(profiler)') return;
    out.set(o, (out.get(o) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000 / Math.max(ops, 1));
  });
  return [...out].sort((a, b) => b[1] - a[1]);
}
