import { periodic } from '../src/periodic';

describe('periodic', () => {
  it('runs one look at a time, and stop() resolves only once the look still running has finished', async () => {
    let looks = 0;
    let release = () => {};
    const job = periodic(5, () => {
      looks++;
      return new Promise<void>((resolve) => (release = resolve));
    });
    job.start();
    // Several periods pass while the first look runs: none starts another.
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(looks).toBe(1);

    let stopped = false;
    const stopping = job.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(stopped).toBe(true);
    // Stopped: no further look.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(looks).toBe(1);
  });

  it('with firstAfterMs, looks first after that delay, then every period', async () => {
    jest.useFakeTimers();
    try {
      let looks = 0;
      const job = periodic(1000, async () => void looks++, { firstAfterMs: 60 });
      job.start();
      expect(looks).toBe(0);
      await jest.advanceTimersByTimeAsync(60);
      expect(looks).toBe(1);
      await jest.advanceTimersByTimeAsync(1000);
      expect(looks).toBe(2);
      await job.stop();
      await jest.advanceTimersByTimeAsync(5000);
      expect(looks).toBe(2);
    } finally {
      jest.useRealTimers();
    }
  });
});
