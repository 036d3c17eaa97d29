/**
 * A redirect target is accepted only as a same-origin absolute path:
 * `/home?x=1` yes; `//evil`, `/\evil`, `https://evil`, `javascript:` no.
 * Anything else falls back to `fallback`.
 *
 * @example
 * res.redirect(safeRedirectPath(req.query.next, '/home'));
 */
export function safeRedirectPath(target: unknown, fallback: string): string {
  if (typeof target !== 'string' || target.length > 512) return fallback;
  if (!target.startsWith('/') || target.startsWith('//') || target.startsWith('/\\')) return fallback;
  if (/[\u0000-\u001f\u007f\\]/.test(target)) return fallback;
  try {
    const u = new URL(target, 'http://x.invalid');
    if (u.origin !== 'http://x.invalid') return fallback;
    return u.pathname + u.search + u.hash;
  } catch {
    return fallback;
  }
}
