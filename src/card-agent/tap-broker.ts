import { EventEmitter } from 'node:events';
import type { Clock } from '../clock';
import { CardauthError } from '../errors';

/** One card read: exactly one per tap (the reader watcher debounces). */
export interface Tap {
  reader: string;
  uid: string;
  /** ms since epoch */
  at: number;
  /** How long reading the card took, when known (for the latency log). */
  readMs?: number;
}

export type TapoutSignal = 'tap' | 'removed' | 'switch';

export interface TapBrokerOptions {
  clock: Clock;
  /** A tap nobody asked for yet is kept this long for the next statement request. */
  holdMs: number;
  /** Readers where the card stays in place (contact): removal means tap-out. */
  isContactReader: (reader: string) => boolean;
  /** The card on a contact reader right now, if any ("use the card already on the reader"). */
  presentCard: () => Tap | undefined;
}

interface Waiter {
  resolve(tap: Tap): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Decides what a tap means. It keeps no PC/SC state of its own: the reader
 * watcher feeds it `card` and `removed`, the bridge asks it for taps.
 *
 * - A page waiting for a statement gets the next tap; that card becomes the
 *   workstation's active card (its session is open).
 * - The active card tapped again with nobody waiting is a tap-out; a
 *   contact card removed is one too. Both emit `tapout`.
 * - Another card tapped while one is active emits `tapout` (signal `switch`)
 *   for the active one and is held for the login the page will start.
 * - A tap nobody waits for is held `holdMs` for the next request.
 *
 * Events: `tapout` ({uid, reader, signal}), `card` and `removed` (no UID; for
 * the page's event stream).
 *
 * @example
 * const broker = new TapBroker({ clock, holdMs: 10_000, isContactReader: () => false, presentCard: () => undefined });
 * watcher.on('card', (t) => broker.onCard(t));
 * const tap = await broker.nextTap(25_000);
 */
export class TapBroker extends EventEmitter {
  private readonly waiters: Waiter[] = [];
  private held: Tap | undefined;
  private active: Tap | undefined;

  constructor(private readonly opts: TapBrokerOptions) {
    super();
  }

  onCard(tap: Tap): void {
    this.emit('card', { reader: tap.reader, at: tap.at });
    const waiter = this.waiters.shift();
    if (waiter) {
      clearTimeout(waiter.timer);
      this.active = tap;
      waiter.resolve(tap);
      return;
    }
    const active = this.active;
    if (active && active.uid === tap.uid) {
      this.active = undefined;
      this.held = undefined;
      this.emit('tapout', { uid: tap.uid, reader: tap.reader, signal: 'tap' satisfies TapoutSignal });
      return;
    }
    if (active) {
      this.active = undefined;
      this.emit('tapout', { uid: active.uid, reader: active.reader, signal: 'switch' satisfies TapoutSignal });
    }
    this.held = tap;
  }

  onRemoved(tap: Tap): void {
    this.emit('removed', { reader: tap.reader, at: tap.at });
    if (this.active && this.active.uid === tap.uid && this.opts.isContactReader(tap.reader)) {
      this.active = undefined;
      this.emit('tapout', { uid: tap.uid, reader: tap.reader, signal: 'removed' satisfies TapoutSignal });
    }
  }

  /**
   * The next tap: a held one still fresh, a card on a contact reader, or the
   * next to come. `signal` withdraws the request (the page went away), so a
   * closed tab never takes the next clinician's tap.
   */
  nextTap(timeoutMs: number, signal?: AbortSignal): Promise<Tap> {
    const now = this.opts.clock.now();
    const held = this.held;
    this.held = undefined;
    if (held && now - held.at <= this.opts.holdMs) {
      this.active = held;
      return Promise.resolve(held);
    }
    const present = this.opts.presentCard();
    if (present && this.opts.isContactReader(present.reader)) {
      this.active = present;
      return Promise.resolve(present);
    }
    return new Promise<Tap>((resolve, reject) => {
      const withdraw = (err: Error) => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        clearTimeout(waiter.timer);
        signal?.removeEventListener('abort', onAbort);
        reject(err);
      };
      const onAbort = () => withdraw(new CardauthError('tap_timeout', 'the request was withdrawn'));
      const waiter: Waiter = {
        resolve: (tap) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(tap);
        },
        reject,
        timer: setTimeout(() => withdraw(new CardauthError('tap_timeout', 'no card was tapped in time')), timeoutMs),
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort);
      this.waiters.push(waiter);
    });
  }

  /** Cancels every waiting request (shutdown). */
  close(): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new CardauthError('unavailable', 'agent shutting down'));
    }
  }
}
