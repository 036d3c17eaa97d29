import { createVirtualCard, type VirtualCard } from '../vpcd-card';
import { CardauthError } from '../../src/errors';
import { relaySocketPath, type VpcdSlot } from '../virtual-reader';

/** Puts a virtual card on the demo's virtual reader for a moment, like a hand tapping a card. */
export interface DemoTapper {
  /**
   * Resolves once the card is on the reader (the agent sees it about half a
   * second later); it is taken off after the hold time. A card still on the
   * reader from an earlier tap is taken off first, and the reader left empty
   * for a moment (a swap within one poll would not read as a tap). Rejects with `unavailable`
   * when the virtual reader is not running.
   */
  tap(uid: string): Promise<void>;
  /** Takes a card still on the reader off. */
  close(): Promise<void>;
}

export interface DemoTapperOptions {
  /** The virtual reader's folder (holds `vpcd-slot0.sock`). */
  dir: string;
  /** Default 0 ("Virtual PCD 00 00"). */
  slot?: VpcdSlot;
  /** How long the card stays on the reader. Default 1200 ms. */
  holdMs?: number;
}

/**
 * Taps through the virtual reader's relay socket (see virtual-reader.ts).
 * Taps are serialised: one card on the reader at a time.
 *
 * @example
 * const tapper = createDemoTapper({ dir: 'var/demo' });
 * await tapper.tap('04A22BB25C6180');
 */
/** How long the reader stays empty between a card taken off and the next one put on. */
const SWAP_GAP_MS = 700;

export function createDemoTapper(options: DemoTapperOptions): DemoTapper {
  if (!options || typeof options.dir !== 'string') throw new TypeError('createDemoTapper needs { dir }');
  const path = relaySocketPath(options.dir, options.slot ?? 0);
  const holdMs = options.holdMs ?? 1200;
  let current: VirtualCard | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  const takeOff = async () => {
    const card = current;
    current = undefined;
    await card?.remove();
  };

  const tapNow = async (uid: string) => {
    if (current) {
      await takeOff();
      // Off long enough for the reader to see the reader empty: a card swapped within one
      // poll reads as the same card staying, and the new one is never seen as a tap.
      await new Promise((r) => setTimeout(r, SWAP_GAP_MS));
    }
    let card: VirtualCard;
    try {
      card = await createVirtualCard({ path, uid });
    } catch (err) {
      throw new CardauthError('unavailable', 'the demo virtual reader is not running', { cause: err });
    }
    current = card;
    const timer = setTimeout(() => {
      if (current === card) void takeOff();
    }, holdMs);
    timer.unref();
    void card.gone.then(() => {
      clearTimeout(timer);
      if (current === card) current = undefined;
    });
  };

  return {
    tap(uid) {
      const run = queue.then(() => tapNow(uid));
      queue = run.catch(() => {});
      return run;
    },
    close() {
      const run = queue.then(takeOff);
      queue = run.catch(() => {});
      return run;
    },
  };
}
