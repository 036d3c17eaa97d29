import { EventEmitter } from 'node:events';
import type { Clock } from '../clock';
import { CardauthError, isCardauthError, type ErrorCode } from '../errors';
import { errorMessage, type Logger } from '../logger';
import { maskUid, type Uid } from '../contract/uid';
import { isServiceGone, type PcscLite, type PcscReader, type PcscStatus } from './pcsc';
import { InadmissibleUidError, readUid } from './read-uid';

/** One card on one reader. `at` is when it arrived (or, for `removed`, left), ms since epoch. */
export interface CardEvent {
  readonly reader: string;
  readonly uid: Uid;
  readonly at: number;
  /** On `card`: how long the read itself took (connect, GET DATA, disconnect), ms. */
  readonly readMs?: number;
}

/** A reader appeared (plugged in, pcscd back) or disappeared. */
export interface ReaderEvent {
  readonly name: string;
  readonly change: 'added' | 'removed';
  readonly at: number;
}

/** A tap that could not be turned into a UID. Never carries the raw response. */
export interface ReadErrorEvent {
  readonly reader: string;
  readonly code: ErrorCode;
  readonly message: string;
  readonly at: number;
  /** For `uid_random` and `uid_length`: the UID bytes as read, uppercase hex (see InadmissibleUidError). */
  readonly presentedUid?: string;
}

/** pcscd became reachable or went away. */
export interface PcscEvent {
  readonly up: boolean;
  readonly at: number;
}

/** Event name → payload. There is deliberately no `'error'` event. */
export interface ReaderWatcherEvents {
  /** A reader was added or removed. */
  reader: ReaderEvent;
  /** Exactly one per tap: a card that bounces off and back within `debounceMs` is the same tap. */
  card: CardEvent;
  /** The tapped card left (reported `debounceMs` after it was seen leaving, with the time it left). */
  removed: CardEvent;
  /** A card was seen but its UID could not be read or is not admissible (`uid_random`, status words…). */
  'read-error': ReadErrorEvent;
  /** PC/SC service reachability changed. */
  pcsc: PcscEvent;
}

/** What {@link ReaderWatcher.status} reports (a fresh copy on each call). Never a UID. */
export interface ReaderWatcherStatus {
  pcscUp: boolean;
  readers: Array<{ name: string; cardPresent: boolean }>;
}

export interface ReaderWatcher {
  on<E extends keyof ReaderWatcherEvents>(event: E, listener: (payload: ReaderWatcherEvents[E]) => void): this;
  once<E extends keyof ReaderWatcherEvents>(event: E, listener: (payload: ReaderWatcherEvents[E]) => void): this;
  off<E extends keyof ReaderWatcherEvents>(event: E, listener: (payload: ReaderWatcherEvents[E]) => void): this;
  /** Readers now known and whether a card is on each; whether pcscd is reachable. */
  status(): ReaderWatcherStatus;
  /**
   * The card that is on a reader now and was read on arrival (the most recent
   * one when several readers hold cards), without touching PC/SC. For contact
   * readers: "use the card already on the reader".
   */
  presentCard(reader?: string): CardEvent | undefined;
  /**
   * Reads the card on `reader` again, now (a fresh GET DATA), without
   * emitting events. Rejects with `reader_not_found`, `card_absent`,
   * `unavailable` (pcscd down or watcher closed) or a read error code.
   */
  readCurrentCard(reader: string): Promise<CardEvent>;
  /** Stops watching, closes the PC/SC context and every reader; no events after it resolves. */
  close(): Promise<void>;
}

/**
 * Options for {@link createReaderWatcher}. Validated once, at construction
 * (a bad value throws `TypeError` naming the option).
 */
export interface ReaderWatcherOptions {
  /**
   * Opens a PC/SC context. Only the agent's main passes the real one:
   * `import pcsclite = require('pcsclite'); … pcsc: () => pcsclite()`.
   * Called again (every `retryMs`) after pcscd goes away.
   */
  pcsc: () => PcscLite;
  /** Time source for the `at` of every event. */
  clock: Clock;
  logger: Logger;
  /**
   * A card that leaves and comes back (same UID, same reader) within this many
   * ms is one tap; `removed` is emitted this long after the card left.
   * 0 reports removals at once. Example: `1500`.
   */
  debounceMs: number;
  /**
   * Exact names of readers that report UID bytes in reverse order; their UIDs
   * are reversed before normalising. Example: `['ACS ACR122U PICC Interface 00 00']`.
   */
  reversedReaders?: readonly string[];
  /** How often to try to reach pcscd again after it went away. Default 500. */
  retryMs?: number;
}

interface Session {
  readonly id: number;
  readonly pcsc: PcscLite;
  readonly readers: Set<PcscReader>;
  dead: boolean;
}

interface Slot {
  readonly name: string;
  reader: PcscReader | undefined;
  session: Session | undefined;
  /** Last reported PRESENT bit. */
  present: boolean;
  /** The current tap: `card` emitted, `removed` not yet. */
  tap: { uid: Uid; at: number } | undefined;
  /** The tapped card was seen leaving; `removed` fires when the timer does. */
  leaving: { at: number; timer: NodeJS.Timeout } | undefined;
  /** Reads and removals on one reader run one after another. */
  queue: Promise<void>;
}

const EVENT_COUNTER_SHIFT = 16;

/**
 * Watches every PC/SC reader and turns taps into UID events.
 *
 * - Each card arriving is read with GET DATA (shared mode), mapped through the
 *   status-word table and {@link normaliseUid}; a success emits one `card`, a
 *   failure one `read-error`. Nothing is ever emitted as `'error'`, and a
 *   listener that throws is logged, not propagated.
 * - Changes are computed as `state ^ previousState`; a card that leaves and
 *   returns within `debounceMs` with the same UID is the same tap.
 * - When pcscd goes away (`RPC transport error 0x80100013`, or `pcsclite()`
 *   throwing `Service not available 0x8010001d`), the context and all readers
 *   are closed and `pcsc()` is retried every `retryMs`; readers that come
 *   back (replugged, pcscd restarted) are watched again. State is kept per
 *   reader *name*, so a card still on a reader after pcscd returns within
 *   `debounceMs` is not a new tap.
 * - A failing read affects only its reader. A reader whose monitor thread
 *   dies on its own (pcscd still up) can only be revived with a new context:
 *   after `retryMs`, if it has not come back, the context is rebuilt.
 *
 * It opens nothing synchronously: the first `pcsc()` call happens on the next
 * turn of the event loop, so listeners attached right after it see every
 * event, starting with `pcsc` `{ up: true }` and one `reader` per reader.
 *
 * @example
 * import pcsclite = require('pcsclite');
 * const watcher = createReaderWatcher({ pcsc: () => pcsclite(), clock: systemClock, logger, debounceMs: 1500 });
 * watcher.on('card', ({ reader, uid }) => broker.onCard({ reader, uid, at: Date.now() }));
 * watcher.on('read-error', ({ reader, code }) => logger.warn('card_unreadable', { reader, code }));
 * // …
 * await watcher.close();
 */
export function createReaderWatcher(options: ReaderWatcherOptions): ReaderWatcher {
  const { pcsc, clock, logger, debounceMs } = options;
  const retryMs = options.retryMs ?? 500;
  if (typeof pcsc !== 'function') throw new TypeError('createReaderWatcher: `pcsc` must be a function returning a PC/SC context');
  if (!clock || typeof clock.now !== 'function') throw new TypeError('createReaderWatcher: `clock` must have now()');
  if (!logger || typeof logger.warn !== 'function') throw new TypeError('createReaderWatcher: `logger` must be a Logger');
  if (!Number.isFinite(debounceMs) || debounceMs < 0) throw new TypeError('createReaderWatcher: `debounceMs` must be a number ≥ 0');
  if (!Number.isFinite(retryMs) || retryMs <= 0) throw new TypeError('createReaderWatcher: `retryMs` must be a number > 0');
  const reversedReaders = options.reversedReaders ?? [];
  if (!Array.isArray(reversedReaders) || reversedReaders.some((r) => typeof r !== 'string')) {
    throw new TypeError('createReaderWatcher: `reversedReaders` must be an array of reader names');
  }
  const reversed = new Set(reversedReaders);

  const emitter = new EventEmitter();
  const slots = new Map<string, Slot>();
  let session: Session | undefined;
  let sessions = 0;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let downSince: number | undefined;
  let pcscUp = false;
  const closing = new Set<Promise<void>>();

  const emit = <E extends keyof ReaderWatcherEvents>(event: E, payload: ReaderWatcherEvents[E]) => {
    if (closed) return;
    for (const listener of emitter.listeners(event)) {
      try {
        (listener as (p: ReaderWatcherEvents[E]) => void)(payload);
      } catch (err) {
        logger.error('card_watcher_listener_failed', { event, err: errorMessage(err) });
      }
    }
  };

  const setUp = (up: boolean) => {
    if (pcscUp === up) return;
    pcscUp = up;
    emit('pcsc', Object.freeze({ up, at: clock.now() }));
  };

  const slotFor = (name: string): Slot => {
    let slot = slots.get(name);
    if (!slot) {
      slot = { name, reader: undefined, session: undefined, present: false, tap: undefined, leaving: undefined, queue: Promise.resolve() };
      slots.set(name, slot);
    }
    return slot;
  };

  const enqueue = <T>(slot: Slot, job: () => Promise<T> | T): Promise<T> => {
    const run = slot.queue.then(job);
    slot.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  };

  // ---- taps ---------------------------------------------------------------

  const emitRemoved = (slot: Slot, at: number) => {
    const tap = slot.tap;
    slot.tap = undefined;
    if (!tap) return;
    logger.info('card_removed', { reader: slot.name, uid: maskUid(tap.uid) });
    emit('removed', Object.freeze({ reader: slot.name, uid: tap.uid, at }));
  };

  const cancelLeaving = (slot: Slot): number | undefined => {
    const leaving = slot.leaving;
    if (!leaving) return undefined;
    clearTimeout(leaving.timer);
    slot.leaving = undefined;
    return leaving.at;
  };

  const onUid = (slot: Slot, uid: Uid, at: number, readMs: number) => {
    if (slot.tap && slot.tap.uid === uid) {
      // The same card: it bounced (left and came back within debounceMs), or
      // it stayed while the context was rebuilt. Still the same tap.
      if (cancelLeaving(slot) !== undefined) logger.info('card_bounce', { reader: slot.name, uid: maskUid(uid) });
      return;
    }
    if (slot.tap) {
      // Another card took its place before the previous one's removal was reported.
      const leftAt = cancelLeaving(slot);
      emitRemoved(slot, leftAt ?? at);
    }
    slot.tap = { uid, at };
    logger.info('card_read', { reader: slot.name, uid: maskUid(uid) });
    emit('card', Object.freeze({ reader: slot.name, uid, at, readMs }));
  };

  const arrive = (slot: Slot, s: Session, reader: PcscReader, at: number) => {
    slot.present = true;
    void enqueue(slot, async () => {
      if (s.dead || closed || slot.reader !== reader) return;
      try {
        const started = clock.now();
        const uid = await readUid(reader, { reversed: reversed.has(slot.name) });
        if (s.dead || closed) return;
        onUid(slot, uid, at, clock.now() - started);
      } catch (err) {
        if (s.dead || closed) return; // the context went away under the read; it will be redone
        const code: ErrorCode = isCardauthError(err) ? err.code : 'card_io_failed';
        const message = err instanceof Error ? err.message : String(err);
        if (code === 'card_absent') {
          logger.info('card_left_during_read', { reader: slot.name });
          return;
        }
        logger.warn('card_read_failed', { reader: slot.name, code, message });
        const presented = err instanceof InadmissibleUidError ? { presentedUid: err.presentedUid } : {};
        emit('read-error', Object.freeze({ reader: slot.name, code, message, at, ...presented }));
      }
    });
  };

  const leave = (slot: Slot, at: number) => {
    slot.present = false;
    void enqueue(slot, () => {
      if (!slot.tap || slot.leaving) return;
      if (debounceMs === 0 || closed) return emitRemoved(slot, at);
      slot.leaving = {
        at,
        timer: setTimeout(() => {
          slot.leaving = undefined;
          emitRemoved(slot, at);
        }, debounceMs),
      };
    });
  };

  // ---- readers --------------------------------------------------------------

  const readerGone = (slot: Slot, at: number) => {
    if (!slot.reader) return;
    slot.reader = undefined;
    slot.session = undefined;
    logger.info('card_reader_removed', { reader: slot.name });
    emit('reader', Object.freeze({ name: slot.name, change: 'removed' as const, at }));
    if (slot.present) leave(slot, at);
  };

  /**
   * Runs a native close() on the next turn of the event loop. pcsclite emits a
   * reader's 'error' and 'end' while holding that reader's (non-recursive)
   * mutex, and close() takes it too: closing from inside those callbacks, or
   * from a listener they reach, would deadlock the main thread.
   */
  const closeLater = (what: string, close: () => void) => {
    const done = new Promise<void>((resolve) => {
      setImmediate(() => {
        try {
          close();
        } catch (err) {
          logger.warn('pcsc_close_failed', { what, err: errorMessage(err) });
        }
        resolve();
      });
    });
    closing.add(done);
    void done.then(() => closing.delete(done));
  };

  const closeReader = (reader: PcscReader) => closeLater(reader.name, () => reader.close());

  const onReader = (s: Session, reader: PcscReader) => {
    // Listeners first: pcsclite crashes the process on an unheard 'error'.
    reader.on('error', (err) => onReaderError(s, reader, err));
    reader.on('end', () => onReaderEnd(s, reader));
    reader.on('status', (status) => onStatus(s, reader, status));
    if (s.dead || closed) return closeReader(reader);
    s.readers.add(reader);
    const slot = slotFor(reader.name);
    const previous = slot.reader;
    slot.reader = reader;
    slot.session = s;
    if (previous) return; // same name again within one context: cannot happen, but keep state
    logger.info('card_reader_added', { reader: reader.name });
    emit('reader', Object.freeze({ name: reader.name, change: 'added' as const, at: clock.now() }));
  };

  const onStatus = (s: Session, reader: PcscReader, status: PcscStatus) => {
    const slot = slots.get(reader.name);
    if (s.dead || closed || !slot || slot.reader !== reader) return;
    // pcsclite sets reader.state after emitting, so here it is the previous state.
    const previous = typeof reader.state === 'number' ? reader.state : 0;
    const changes = status.state ^ previous;
    const PRESENT = reader.SCARD_STATE_PRESENT;
    const nowPresent = (status.state & PRESENT) !== 0;
    const at = clock.now();
    if (changes & PRESENT) {
      if (nowPresent) arrive(slot, s, reader, at);
      else leave(slot, at);
    } else if (nowPresent && changes >>> EVENT_COUNTER_SHIFT !== 0) {
      // Present before and after, but the card-event counter moved: a card was
      // swapped between two polls. Read again; the same UID stays the same tap.
      arrive(slot, s, reader, at);
    }
  };

  const onReaderError = (s: Session, reader: PcscReader, err: Error) => {
    if (s.dead || closed) return;
    if (isServiceGone(err)) {
      // pcscd went away: the context reports it too; either one restarts.
      restart(s, err);
      return;
    }
    logger.warn('card_reader_failed', { reader: reader.name, err: errorMessage(err) });
    // Its monitor thread has ended. If pcscd does not replace the reader (it
    // would, after an unplug/replug) a new context is the only way to revive it.
    setTimeout(() => {
      const slot = slots.get(reader.name);
      if (!s.dead && !closed && (!slot || !slot.reader)) {
        logger.warn('card_reader_revive', { reader: reader.name });
        restart(s, err);
      }
    }, retryMs).unref();
  };

  const onReaderEnd = (s: Session, reader: PcscReader) => {
    s.readers.delete(reader);
    closeReader(reader); // joins its finished thread now rather than in a GC finalizer
    const slot = slots.get(reader.name);
    if (s.dead || closed || !slot || slot.reader !== reader) return;
    readerGone(slot, clock.now());
  };

  // ---- context ------------------------------------------------------------

  const teardown = (s: Session) => {
    if (s.dead) return;
    s.dead = true;
    if (session === s) session = undefined;
    const at = clock.now();
    for (const reader of s.readers) closeReader(reader);
    s.readers.clear();
    // Keep its 'error' listener: close() is followed by one 'Command cancelled'.
    closeLater('context', () => s.pcsc.close());
    for (const slot of slots.values()) if (slot.session === s) readerGone(slot, at);
  };

  const restart = (s: Session, err: unknown) => {
    if (s.dead || closed) return;
    logger.warn('pcsc_lost', { err: errorMessage(err), retryMs });
    teardown(s);
    downSince = clock.now();
    setUp(false);
    scheduleConnect();
  };

  const scheduleConnect = () => {
    if (closed || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connect();
    }, retryMs);
  };

  const connect = () => {
    if (closed || session) return;
    let ctx: PcscLite;
    try {
      ctx = pcsc();
    } catch (err) {
      if (downSince === undefined) {
        downSince = clock.now();
        logger.warn('pcsc_unavailable', { err: errorMessage(err), retryMs });
      }
      setUp(false);
      scheduleConnect();
      return;
    }
    const s: Session = { id: ++sessions, pcsc: ctx, readers: new Set(), dead: false };
    session = s;
    ctx.on('error', (err) => restart(s, err));
    ctx.on('reader', (reader) => onReader(s, reader));
    logger.info('pcsc_connected', { session: s.id, ...(downSince !== undefined ? { downMs: clock.now() - downSince } : {}) });
    downSince = undefined;
    setUp(true);
  };

  let startTimer: NodeJS.Immediate | undefined = setImmediate(() => {
    startTimer = undefined;
    connect();
  });

  const watcher: ReaderWatcher = {
    on(event, listener) {
      emitter.on(event, listener);
      return this;
    },
    once(event, listener) {
      emitter.once(event, listener);
      return this;
    },
    off(event, listener) {
      emitter.off(event, listener);
      return this;
    },
    status() {
      const readers = [...slots.values()]
        .filter((slot) => slot.reader)
        .map((slot) => ({ name: slot.name, cardPresent: slot.present }))
        .sort((a, b) => a.name.localeCompare(b.name));
      return { pcscUp, readers };
    },
    presentCard(reader) {
      let best: CardEvent | undefined;
      for (const slot of slots.values()) {
        if (reader !== undefined && slot.name !== reader) continue;
        if (!slot.reader || !slot.present || !slot.tap || slot.leaving) continue;
        if (!best || slot.tap.at > best.at) best = Object.freeze({ reader: slot.name, uid: slot.tap.uid, at: slot.tap.at });
      }
      return best;
    },
    async readCurrentCard(name) {
      if (closed) throw new CardauthError('unavailable', 'the reader watcher is closed');
      const slot = slots.get(name);
      if (!slot || !slot.reader) {
        if (!pcscUp) throw new CardauthError('unavailable', 'the PC/SC service is not available');
        throw new CardauthError('reader_not_found', `no reader named "${name}"`);
      }
      if (!slot.present) throw new CardauthError('card_absent', `no card on "${name}"`);
      return enqueue(slot, async () => {
        const reader = slot.reader;
        if (!reader || closed) throw new CardauthError('unavailable', 'the reader went away');
        const uid = await readUid(reader, { reversed: reversed.has(name) });
        return Object.freeze({ reader: name, uid, at: clock.now() });
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      if (startTimer) clearImmediate(startTimer);
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = undefined;
      for (const slot of slots.values()) cancelLeaving(slot);
      if (session) teardown(session);
      await Promise.all([...slots.values()].map((slot) => slot.queue));
      while (closing.size > 0) await Promise.all([...closing]);
      emitter.removeAllListeners();
    },
  };
  return watcher;
}
