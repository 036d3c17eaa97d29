import { limitConcurrency } from '../../src/policy/limit-concurrency';

describe('limitConcurrency', () => {
  it('runs no more than max tasks at once, the rest in FIFO order', async () => {
    const limit = limitConcurrency(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const task = (i: number) =>
      limit(async () => {
        running++;
        peak = Math.max(peak, running);
        order.push(i);
        await new Promise((r) => setImmediate(r));
        running--;
      });
    await Promise.all(Array.from({ length: 10 }, (_, i) => task(i)));
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('a failing task frees its slot', async () => {
    const limit = limitConcurrency(1);
    await expect(limit(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(limit(async () => 'next')).resolves.toBe('next');
  });

  it('TypeError for a max that is not a positive integer', () => {
    expect(() => limitConcurrency(0)).toThrow(TypeError);
    expect(() => limitConcurrency(1.5)).toThrow(TypeError);
  });
});
