import http, { type OutgoingHttpHeaders } from 'node:http';

export interface HttpResponse {
  status: number;
  body: string;
  setCookie: string[];
  /** The Location header of a redirect. */
  location?: string;
}

/**
 * A keep-alive HTTP/1.1 client for one server (node:http, no fetch: undici
 * costs more CPU per request, and the load generator shares the machine
 * with the server).
 */
export class HttpTarget {
  readonly agent: http.Agent;
  readonly host: string;
  readonly port: number;

  constructor(
    readonly url: string,
    maxSockets: number,
  ) {
    const u = new URL(url);
    this.host = u.hostname;
    this.port = Number(u.port);
    // A socket idle for 4 s is dropped before the server's keep-alive timeout (5 s) closes it: a
    // request sent on it just as the server closes it would fail (ECONNRESET, "socket hang up").
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, timeout: 4000 });
  }

  request(method: string, path: string, headers: OutgoingHttpHeaders, body?: string): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: this.host, port: this.port, method, path, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const sc = res.headers['set-cookie'];
          const location = res.headers.location;
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), setCookie: sc ?? [], ...(location ? { location } : {}) });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export class HttpError extends Error {
  constructor(
    readonly what: string,
    readonly res: HttpResponse,
  ) {
    super(`${what}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
  }
}

/**
 * A browser-like client: keeps its cookies by name (every cookie goes with every request, as
 * test/helpers/oidc.ts does: the bench talks to one origin), sends Origin and a JSON body on
 * POST, and follows no redirect unless asked (`follow`).
 */
export class Browser {
  private readonly jar = new Map<string, string>();

  constructor(
    readonly target: HttpTarget,
    readonly origin: string,
    readonly cookieName = 'cardauth.sid',
  ) {}

  /** The session cookie as `name=value`, or '' (set '' to drop it, as a fresh browser). */
  get cookie(): string {
    const v = this.jar.get(this.cookieName);
    return v === undefined ? '' : `${this.cookieName}=${v}`;
  }

  set cookie(pair: string) {
    if (pair) this.jar.set(this.cookieName, pair.slice(pair.indexOf('=') + 1));
    else this.jar.delete(this.cookieName);
  }

  /** Forgets every cookie: a fresh browser. */
  clearCookies(): void {
    this.jar.clear();
  }

  async request(method: string, path: string, body?: unknown): Promise<HttpResponse> {
    const headers: OutgoingHttpHeaders = { 'user-agent': 'cardauth-bench/1', accept: 'application/json' };
    if (this.jar.size) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    let payload: string | undefined;
    if (method !== 'GET') {
      headers.origin = this.origin;
      payload = JSON.stringify(body ?? {});
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    const res = await this.target.request(method, path, headers, payload);
    for (const c of res.setCookie) {
      const [pair = '', ...attrs] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || attrs.some((a) => /^\s*(expires=thu, 01 jan 1970|max-age=0\s*$)/i.test(a))) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    return res;
  }

  /** POST, expecting 200 and a JSON answer. */
  async postJson<T>(path: string, body?: unknown): Promise<T> {
    const res = await this.request('POST', path, body);
    if (res.status !== 200) throw new HttpError(`POST ${path}`, res);
    return JSON.parse(res.body) as T;
  }

  async getOk(path: string): Promise<HttpResponse> {
    const res = await this.request('GET', path);
    if (res.status !== 200) throw new HttpError(`GET ${path}`, res);
    return res;
  }

  /**
   * GETs `path` and follows redirects on this origin until one points off it or at a path
   * `stopAt` accepts; answers that URL, not fetched. A non-redirect answer on the way throws.
   */
  async follow(path: string, stopAt: (u: URL) => boolean = () => false): Promise<URL> {
    let at = new URL(path, this.origin);
    for (let hops = 0; hops < 10; hops++) {
      const res = await this.request('GET', at.pathname + at.search);
      if (res.status < 300 || res.status >= 400 || !res.location) throw new HttpError(`GET ${at.pathname} (following redirects)`, res);
      at = new URL(res.location, at);
      if (at.origin !== this.origin || stopAt(at)) return at;
    }
    throw new Error(`GET ${path}: more than 10 redirects`);
  }
}
