import type { TestClient, TestResponse } from './app';

/** The CSRF token of a workbench page's forms (its hidden `_csrf` field). */
export function csrfOf(html: string): string {
  const m = /<input type="hidden" name="_csrf" value="([^"]+)">/.exec(html);
  if (!m) throw new Error('no CSRF field on the page');
  return m[1]!;
}

/** A page form's POST, as a browser sends it (urlencoded, the client's cookie and Origin). */
export function postForm(c: TestClient, path: string, fields: Record<string, string | string[]>): Promise<TestResponse> {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
  return c.request('POST', path, body.toString(), { 'content-type': 'application/x-www-form-urlencoded' });
}

/** GETs the page, then POSTs its form at `path` with the page's CSRF token and `fields`. */
export async function submitFrom(c: TestClient, page: string, path: string, fields: Record<string, string | string[]> = {}): Promise<TestResponse> {
  const html = (await c.get(page)).text;
  return postForm(c, path, { _csrf: csrfOf(html), ...fields });
}

/** The `data-code` of the page's error alert, if any. */
export const errorCodeOf = (html: string): string | undefined => /<div id="error" class="error" role="alert" data-code="([a-z_]+)">/.exec(html)?.[1];

/** The text of the page's `aria-live` status region, tags dropped, whitespace collapsed. */
export const statusOf = (html: string): string => (/<div id="status"[^>]*>([\s\S]*?)<\/div>/.exec(html)?.[1] ?? '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
