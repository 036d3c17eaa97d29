/**
 * What a reader cannot see, or sees as something else: every code point of
 * `\p{C}` (C0 and C1 controls, format characters such as the bidi overrides
 * and isolates U+202A–U+202E, U+2066–U+2069, zero-width ones, a BOM inside
 * text, tag characters; private use, unassigned code points, lone
 * surrogates), every default-ignorable one (U+034F, variation selectors, the
 * Hangul fillers U+115F and U+3164), every space but U+0020 (U+00A0,
 * U+2007, …), and U+2800, a blank Braille pattern. TAB, LF and CR are left to
 * the format around the text (JSON escapes them itself, CSV quotes them), and
 * so is the plain space.
 */
const INVISIBLE = /[\p{C}\p{Default_Ignorable_Code_Point}\p{Zs}\u2800]/gu;
const LEFT_AS_IS = new Set(['\t', '\n', '\r', ' ']);

/**
 * Writes each invisible or text-reordering code point as a `\uXXXX` escape
 * (lowercase hex; one beyond U+FFFF as its two halves), so that whoever reads
 * the text, a terminal or a spreadsheet, sees what is there. Inside a JSON
 * string these are JSON escapes, so the JSON still parses to the same value.
 *
 * @example
 * escapeInvisible('ivanova\u202e') // => 'ivanova\\u202e'
 * JSON.parse(escapeInvisible(JSON.stringify('a\u200bb'))) // => 'a\u200bb'
 */
export function escapeInvisible(text: string): string {
  return text.replace(INVISIBLE, (c) => (LEFT_AS_IS.has(c) ? c : c.split('').map((u) => `\\u${u.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')));
}

/**
 * A backslash that would be read as part of an escape in {@link escapeInvisibleText}'s output:
 * one before `u` and four hex digits, before another backslash, or before a character that
 * becomes an escape.
 */
const ESCAPE_LIKE_BACKSLASH = new RegExp(String.raw`\\(?=u[0-9A-Fa-f]{4}|\\|${INVISIBLE.source})`, 'gu');

/**
 * {@link escapeInvisible} for plain text (not JSON, which escapes its backslashes itself): a
 * backslash that would otherwise read as the start of an escape is written twice, so the text
 * reads back unambiguously: `\\` is a backslash, `\uXXXX` a code unit, and any other backslash
 * is itself. A login typed as the six characters `\u200b` and one holding U+200B no longer
 * look the same; `CLINIC\ivanova` stays as it is.
 *
 * @example
 * escapeInvisibleText('admin\u200b') // => 'admin\\u200b'
 * escapeInvisibleText('admin\\u200b') // => 'admin\\\\u200b'
 */
export function escapeInvisibleText(text: string): string {
  return escapeInvisible(text.replace(ESCAPE_LIKE_BACKSLASH, '\\\\'));
}
