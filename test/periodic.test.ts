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
});
