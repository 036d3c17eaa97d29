/**
 * Every code point of `\p{C}` but TAB, LF and CR: C0 and C1 controls, format
 * characters (bidi overrides and isolates U+202A–U+202E, U+2066–U+2069,
 * zero-width ones, a BOM inside text, tag characters), private use,
 * unassigned code points and lone surrogates. TAB, LF and CR are left to the
 * format around the text: JSON escapes them itself, CSV quotes them.
 */
const INVISIBLE = /[^\P{C}\t\n\r]/gu;

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
  return text.replace(INVISIBLE, (c) => c.split('').map((u) => `\\u${u.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''));
}
