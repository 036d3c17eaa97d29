import { EventEmitter } from 'node:events';
import type { Clock } from '../clock';
import type { TapoutSignal } from '../contract/agent-statements';
import { CardauthError } from '../errors';

/** One card read: exactly one per tap (the reader watcher debounces). */
export interface Tap {
  reader: string;
  uid: string;
  /** ms since epoch */
  at: number;
  /** How long reading the card took, when known (for the latency log). */
  readMs?: number;
  /**
   * The UID was read but cannot identify a card (a random ID, a wrong
   * length): it is still handed to a waiting page, so the server refuses and
   * audits it, but it never opens or closes a session here.
   */
  inadmissible?: true;
}

/** A card the watcher saw but could not turn into a usable UID. */
export interface ReadFailure {
  reader: string;
  at: number;
  /** The bytes read, when there were some but they are not an admissible UID. */
  presentedUid?: string;
}

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
  /** A desk read (see {@link TapBroker.nextTap}): its card opens no session here and leaves the active one be. */
  desk: boolean;
  resolve(tap: Tap): void;
  /** Withdraws the request: stops its timer and rejects it. */
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Decides what a tap means. It keeps no PC/SC state of its own: the reader
 * watcher feeds it `card` and `removed`, the bridge asks it for taps.
 *
 * - One statement request waits at a time: a new one supersedes the one
 *   waiting, which fails with `superseded`. A program that asked first (on a
 *   terminal server, another user's) cannot sit unseen ahead of the page.
 * - The active card (the one whose session is open here) tapped again is a
 *   tap-out, always, even while a request waits: a stale second login tab
 *   never turns the clinician's tap-out into a fresh login. A contact card
 *   removed is a tap-out too. Both emit `tapout`. The request keeps waiting,
 *   unless the server says the tap-out locked nothing (see
 *   {@link TapBroker.tapoutLockedNothing}).
 * - The request waiting gets any other tap; that card becomes the
 *   workstation's active card.
 * - Another card tapped while one is active emits `tapout` (signal
 *   `switch`) for the active one, whether a request waits for the new card
 *   or not (then it is held for the login the page will start).
 * - A tap nobody waits for is held `holdMs` for the next request.
 * - A card that could not be read fails the waiting request with
 *   `card_unreadable`, so the page can ask for it again; one whose UID is
 *   not admissible is handed on (see `Tap.inadmissible`).
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
  private waiter: Waiter | undefined;
  private held: Tap | undefined;
  private active: Tap | undefined;
  /** The tap that was the last tap-out, until another card comes (see tapoutLockedNothing). */
  private tappedOut: Tap | undefined;

  constructor(private readonly opts: TapBrokerOptions) {
    super();
  }

  onCard(tap: Tap): void {
    this.emit('card', { reader: tap.reader, at: tap.at });
    this.tappedOut = undefined;
    const active = this.active;
    // Before any waiting request: the active card again is a tap-out.
    if (active && active.uid === tap.uid) {
      this.active = undefined;
      this.held = undefined;
      this.tappedOut = tap;
      this.emit('tapout', { uid: tap.uid, reader: tap.reader, signal: 'tap' satisfies TapoutSignal });
      return;
    }
    // Another card: the active one's session is left behind, whoever gets this tap (a waiting
    // request, which may not be the clinician's own page, or the next one); but not for a desk
    // read, where the officer, still at their open session, reads a card to bind it.
    if (active && this.waiter?.desk) {
      this.handTo(tap);
      return;
    }
    if (active) {
      this.active = undefined;
      this.emit('tapout', { uid: active.uid, reader: active.reader, signal: 'switch' satisfies TapoutSignal });
    }
    if (this.handTo(tap)) return;
    this.held = tap;
  }

  /**
   * The server answered the tap-out of `uid` (signal `tap`): it locked no
   * session, so none of that card was open here (it ended, idled into the
   * lock screen, or its login never finished). The tap was a plain tap after
   * all: it goes to the waiting request, or is held, unless another card came
   * since or it is older than `holdMs`. (The lock screen after an idle lock
   * takes one tap, not two.)
   */
  tapoutLockedNothing(uid: string): void {
    const tap = this.tappedOut;
    this.tappedOut = undefined;
    if (!tap || tap.uid !== uid || !this.stillHeld(tap, this.opts.clock.now())) return;
    if (!this.handTo(tap)) this.held = tap;
  }

  /** A read that failed: see the class notes. Nothing to do when nobody waits. */
  onReadError(failure: ReadFailure): void {
    this.tappedOut = undefined;
    if (failure.presentedUid !== undefined) {
      const tap: Tap = { reader: failure.reader, uid: failure.presentedUid, at: failure.at, inadmissible: true };
      // Held for the next request, but never in place of a usable card held before it.
      const held = this.held;
      if (!this.handTo(tap) && !(held && !held.inadmissible && this.stillHeld(held, failure.at))) this.held = tap;
      return;
    }
    this.waiter?.reject(new CardauthError('card_unreadable', 'the card on the reader could not be read; place it again'));
  }

  /** A held tap is kept for `holdMs`, then it is stale. */
  private stillHeld(held: Tap, now: number): boolean {
    return now - held.at <= this.opts.holdMs;
  }

  /** Gives `tap` to the waiting request, if there is one; an admissible card becomes the active one. */
  private handTo(tap: Tap): boolean {
    const waiter = this.waiter;
    if (!waiter) return false;
    this.waiter = undefined;
    clearTimeout(waiter.timer);
    if (!tap.inadmissible && !waiter.desk) this.active = tap;
    waiter.resolve(tap);
    return true;
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
   * closed tab never takes the next clinician's tap. A request still waiting
   * from before fails with `superseded`: only the newest one waits.
   * `desk`: a desk read (the workbench reads a card to bind it): the card it
   * gets does not become the active one and is no switch away from it; only
   * a tap to come counts (nothing held, not a card lying on a contact reader).
   */
  nextTap(timeoutMs: number, signal?: AbortSignal, opts: { desk?: boolean } = {}): Promise<Tap> {
    const desk = opts.desk === true;
    this.waiter?.reject(new CardauthError('superseded', 'another statement request (another window or program) took the card reader'));
    const now = this.opts.clock.now();
    const held = desk ? undefined : this.held;
    if (!desk) this.held = undefined;
    if (held && this.stillHeld(held, now)) {
      if (!held.inadmissible) this.active = held;
      return Promise.resolve(held);
    }
    const present = desk ? undefined : this.opts.presentCard();
    if (present && this.opts.isContactReader(present.reader)) {
      this.active = present;
      return Promise.resolve(present);
    }
    return new Promise<Tap>((resolve, reject) => {
      const withdraw = (err: Error) => {
        if (this.waiter === waiter) this.waiter = undefined;
        clearTimeout(waiter.timer);
        signal?.removeEventListener('abort', onAbort);
        reject(err);
      };
      const onAbort = () => withdraw(new CardauthError('tap_timeout', 'the request was withdrawn'));
      const waiter: Waiter = {
        desk,
        resolve: (tap) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(tap);
        },
        reject: withdraw,
        timer: setTimeout(() => withdraw(new CardauthError('tap_timeout', 'no card was tapped in time')), timeoutMs),
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort);
      this.waiter = waiter;
    });
  }

  /** Cancels the waiting request (shutdown). */
  close(): void {
    this.waiter?.reject(new CardauthError('unavailable', 'agent shutting down'));
  }
}
