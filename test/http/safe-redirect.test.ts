import { safeRedirectPath } from '../../src/http/safe-redirect';

describe('safeRedirectPath', () => {
  it('keeps a same-origin path with its query and fragment', () => {
    expect(safeRedirectPath('/home?tab=2#top', '/fallback')).toBe('/home?tab=2#top');
    expect(safeRedirectPath('/a/../home', '/fallback')).toBe('/home');
  });

  it.each([
    ['a network path', '//evil.example/x'],
    ['an absolute URL', 'https://evil.example'],
    ['a backslash path', '/\\evil.example'],
    ['a script URL', 'javascript:alert(1)'],
    ['a relative path', 'home'],
    ['a control character', '/ho\nme'],
    ['dot-segments collapsing into a network path', '/.//evil.example'],
    ['encoded dot-segments collapsing into a network path', '/%2e%2e//evil.example'],
    ['a parent segment collapsing into a network path', '/a/..//evil.example'],
    ['a non-string', ['/home']],
    ['an over-long path', `/${'a'.repeat(600)}`],
  ])('falls back for %s', (_what, target) => {
    expect(safeRedirectPath(target, '/fallback')).toBe('/fallback');
  });

  it('keeps encoded slashes encoded, so they stay one path segment', () => {
    expect(safeRedirectPath('/%2F%2Fevil.example', '/fallback')).toBe('/%2F%2Fevil.example');
  });
});
