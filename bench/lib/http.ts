import http, { type OutgoingHttpHeaders } from 'node:http';

export interface HttpResponse {
  status: number;
  body: string;
  setCookie: string[];
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
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  request(method: string, path: string, headers: OutgoingHttpHeaders, body?: string): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: this.host, port: this.port, method, path, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const sc = res.headers['set-cookie'];
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), setCookie: sc ?? [] });
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

/** A browser-like client: keeps one session cookie, sends Origin and a JSON body on POST. */
export class Browser {
  cookie = '';

  constructor(
    readonly target: HttpTarget,
    readonly origin: string,
    readonly cookieName = 'cardauth.sid',
  ) {}

  async request(method: string, path: string, body?: unknown): Promise<HttpResponse> {
    const headers: OutgoingHttpHeaders = { 'user-agent': 'cardauth-bench/1', accept: 'application/json' };
    if (this.cookie) headers.cookie = this.cookie;
    let payload: string | undefined;
    if (method !== 'GET') {
      headers.origin = this.origin;
      payload = JSON.stringify(body ?? {});
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    const res = await this.target.request(method, path, headers, payload);
    const set = res.setCookie.find((c) => c.startsWith(`${this.cookieName}=`));
    if (set) this.cookie = set.split(';')[0]!;
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
}
