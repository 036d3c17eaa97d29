import type Redis from 'ioredis';

/** What a client sent while `during` ran. */
export interface SentCommands {
  /** Command names in the order sent (a script call is one `evalsha`, or `eval` on its first call). */
  names: string[];
  /**
   * Round trips: commands sent while none of the client's was in flight start one; the rest
   * were sent alongside (a Promise.all wave, or another command still waiting for its reply).
   */
  roundTrips: number;
}

type Sendable = { sendCommand(command: { name: string; promise: Promise<unknown> }, stream?: unknown): unknown };

/**
 * Watches what one ioredis client sends while `during` runs (only this client: the server's,
 * in a test server). Instruments the client object, not Redis, and puts it back afterwards.
 *
 * @example
 * const sent = await sentCommands(srv.redis, () => c.post('/auth/login', body));
 * expect(sent.names.length).toBeLessThanOrEqual(15);
 */
export async function sentCommands(client: Redis, during: () => Promise<unknown>): Promise<SentCommands> {
  const target = client as unknown as Sendable;
  const own = Object.prototype.hasOwnProperty.call(target, 'sendCommand');
  const original = target.sendCommand;
  const names: string[] = [];
  let inFlight = 0;
  let roundTrips = 0;
  target.sendCommand = function (this: unknown, command, stream) {
    names.push(command.name);
    if (inFlight === 0) roundTrips++;
    inFlight++;
    const done = () => {
      inFlight--;
    };
    command.promise.then(done, done);
    return original.call(this, command, stream);
  };
  try {
    await during();
  } finally {
    if (own) target.sendCommand = original;
    else delete (target as Partial<Sendable>).sendCommand;
  }
  return { names, roundTrips };
}
