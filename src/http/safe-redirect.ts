const BASE = 'http://x.invalid';

/** A string that is a same-origin absolute path as it stands, before any normalising. */
const isPlainPath = (s: string) => s.startsWith('/') && !s.startsWith('//') && !s.startsWith('/\\') && !/[\u0000-\u001f\u007f\\]/.test(s);

/**
 * A redirect target is accepted only as a same-origin absolute path:
 * `/home?x=1` yes; `//evil`, `/\evil`, `https://evil`, `javascript:` no.
 * Anything else falls back to `fallback`.
 *
 * The answer is the URL parser's normalised path, and that is checked
 * again: dot-segments can collapse into a network path
 * (`/.//evil` → `//evil`), which a browser would follow off-site.
 *
 * @example
 * res.redirect(safeRedirectPath(req.query.next, '/home'));
 */
export function safeRedirectPath(target: unknown, fallback: string): string {
  if (typeof target !== 'string' || target.length > 512 || !isPlainPath(target)) return fallback;
  try {
    const u = new URL(target, BASE);
    const path = u.pathname + u.search + u.hash;
    if (u.origin !== BASE || !isPlainPath(path) || new URL(path, BASE).origin !== BASE) return fallback;
    return path;
  } catch {
    return fallback;
  }
}
