/**
 * Whether Redis stream id `a` ("ms-seq") comes after `b`.
 *
 * @example
 * idAfter('1772352000000-1', '1772352000000-0') // => true
 */
export function idAfter(a: string, b: string): boolean {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am !== bm ? am > bm : as > bs;
}
