import { TapBroker, type Tap } from '../../src/card-agent/tap-broker';
import { isCardauthError } from '../../src/errors';
import { manualClock } from '../helpers/app';

// Pure logic: what a tap means. Fed by hand; the PC/SC side has its own tests.
function setup(contact = false, present?: Tap) {
  const clock = manualClock(1_000_000);
  const broker = new TapBroker({ clock, holdMs: 10_000, isContactReader: () => contact, presentCard: () => present });
  const tapouts: unknown[] = [];
  broker.on('tapout', (t) => tapouts.push(t));
  const tap = (uid: string, reader = 'R1'): Tap => ({ uid, reader, at: clock.now() });
  return { clock, broker, tapouts, tap };
}
/** The UID a request got, or the code it failed with. */
const outcome = (p: Promise<Tap>) => p.then((t) => t.uid, (e: unknown) => (isCardauthError(e) ? e.code : 'untyped'));

describe('tap broker', () => {
  it('gives a waiting request the next tap', async () => {
    const { broker, tap } = setup();
    const p = broker.nextTap(1000);
    broker.onCard(tap('04A1'));
    await expect(p).resolves.toMatchObject({ uid: '04A1' });
  });

  it('the same card tapped again with nobody waiting is a tap-out', async () => {
    const { broker, tapouts, tap } = setup();
    const p = broker.nextTap(1000);
    broker.onCard(tap('04A1'));
    await p;
    broker.onCard(tap('04A1'));
    expect(tapouts).toEqual([{ uid: '04A1', reader: 'R1', signal: 'tap' }]);
  });

  it('another card while a request waits: the request gets it, and the open session still gets its switch tap-out', async () => {
    const { broker, tapouts, tap } = setup();
    const first = broker.nextTap(1000);
    broker.onCard(tap('04A1'));
    await first;
    const waiting = broker.nextTap(1000); // perhaps not the clinician's own page
    broker.onCard(tap('04B2'));
    expect(await outcome(waiting)).toBe('04B2');
    expect(tapouts).toEqual([{ uid: '04A1', reader: 'R1', signal: 'switch' }]);
    broker.onCard(tap('04A1')); // A's card is no longer the active one: no tap-out of B, it is a switch from B
    expect(tapouts).toEqual([
      { uid: '04A1', reader: 'R1', signal: 'switch' },
      { uid: '04B2', reader: 'R1', signal: 'switch' },
    ]);
  });

  it('a desk read: another card at the open session goes to it with no switch tap-out and does not become the active card; the active card tapped is still a tap-out', async () => {
    const { broker, tapouts, tap } = setup();
    const login = broker.nextTap(1000);
    broker.onCard(tap('04A1'));
    await login;
    const desk = broker.nextTap(1000, undefined, { desk: true });
    broker.onCard(tap('04B2'));
    expect(await outcome(desk)).toBe('04B2');
    expect(tapouts).toEqual([]);
    // 04A1 is still the active card: tapped again, it is its tap-out (not a switch from 04B2).
    broker.onCard(tap('04A1'));
    expect(tapouts).toEqual([{ uid: '04A1', reader: 'R1', signal: 'tap' }]);
  });

  it('a desk read takes only a tap to come: not a held tap, not a card lying on a contact reader (which stay for the login)', async () => {
    const { broker, tap, clock } = setup(true, { uid: '04C3', reader: 'R1', at: 1_000_000 });
    broker.onCard(tap('04B2')); // held
    const desk = broker.nextTap(50, undefined, { desk: true });
    clock.advance(1);
    expect(await outcome(desk)).toBe('tap_timeout');
    await expect(broker.nextTap(1000)).resolves.toMatchObject({ uid: '04B2' });
  });

  it("another card at an open session: tap-out (switch) for the open one, and the new tap is held for the next login", async () => {
    const { broker, tapouts, tap } = setup();
    const p = broker.nextTap(1000);
    broker.onCard(tap('04A1'));
    await p;
    broker.onCard(tap('04B2'));
    expect(tapouts).toEqual([{ uid: '04A1', reader: 'R1', signal: 'switch' }]);
    await expect(broker.nextTap(1000)).resolves.toMatchObject({ uid: '04B2' });
  });

  it('a tap-out is not held: the lock screen waits for a new tap', async () => {
    const { broker, tap } = setup();
    const p = broker.nextTap(1000);
    broker.onCard(tap('04A1'));
    await p;
    broker.onCard(tap('04A1'));
    const code = await broker.nextTap(20).then(
      () => 'resolved',
      (e: unknown) => (isCardauthError(e) ? e.code : 'untyped'),
    );
    expect(code).toBe('tap_timeout');
  });

  it('a held tap goes stale after holdMs', async () => {
    const { broker, clock, tap } = setup();
    broker.onCard(tap('04C3'));
    clock.advance(10_001);
    const code = await broker.nextTap(20).catch((e: unknown) => (isCardauthError(e) ? e.code : 'untyped'));
    expect(code).toBe('tap_timeout');
  });

  it('a contact reader: the card on it is used at once, and its removal is a tap-out', async () => {
    const { broker, tapouts, tap } = setup(true, { uid: '04D4', reader: 'ACR38U', at: 0 });
    await expect(broker.nextTap(1000)).resolves.toMatchObject({ uid: '04D4' });
    broker.onRemoved(tap('04D4', 'ACR38U'));
    expect(tapouts).toEqual([{ uid: '04D4', reader: 'ACR38U', signal: 'removed' }]);
  });

  it('removal from a contactless reader is not a tap-out (removal is reported late)', async () => {
    const { broker, tapouts, tap } = setup(false);
    const p = broker.nextTap(1000);
    broker.onCard(tap('04A1'));
    await p;
    broker.onRemoved(tap('04A1'));
    expect(tapouts).toEqual([]);
  });

  it('events carry no UID', () => {
    const { broker, tap } = setup();
    const seen: Array<[string, unknown]> = [];
    broker.on('card', (e) => seen.push(['card', e]));
    broker.on('removed', (e) => seen.push(['removed', e]));
    broker.onCard(tap('04E5'));
    broker.onRemoved(tap('04E5'));
    // Both events were emitted, exactly these, with only reader and time…
    expect(seen).toEqual([
      ['card', { reader: 'R1', at: 1_000_000 }],
      ['removed', { reader: 'R1', at: 1_000_000 }],
    ]);
    // …and the UID is nowhere in them.
    expect(JSON.stringify(seen)).not.toContain('04E5');
  });
});

describe('tap broker: cards that cannot be used', () => {
  it('a card that could not be read fails the waiting request with card_unreadable; the next request gets the next tap', async () => {
    const { broker, tap } = setup();
    const p = broker.nextTap(1000);
    broker.onReadError({ reader: 'R1', at: 0 });
    await expect(p).rejects.toMatchObject({ code: 'card_unreadable' });
    const again = broker.nextTap(1000);
    broker.onCard(tap('04A1'));
    await expect(again).resolves.toMatchObject({ uid: '04A1' });
  });

  it('with nobody waiting, an unreadable card is dropped, not held', async () => {
    const { broker, tap } = setup();
    broker.onReadError({ reader: 'R1', at: 0 });
    const p = broker.nextTap(1000);
    broker.onCard(tap('04A1'));
    await expect(p).resolves.toMatchObject({ uid: '04A1' });
  });

  it('an inadmissible UID goes to the waiting request as read, but opens no session: a card after it is no switch', async () => {
    const { broker, tapouts, tap } = setup();
    const p = broker.nextTap(1000);
    broker.onReadError({ reader: 'R1', at: 0, presentedUid: '08A1B2C3' });
    await expect(p).resolves.toEqual({ reader: 'R1', uid: '08A1B2C3', at: 0, inadmissible: true });
    broker.onCard(tap('04A1')); // had the random ID become the active card, this would be a 'switch' tap-out
    expect(tapouts).toEqual([]);
  });

  it('a usable card held too long gives way to an inadmissible UID tapped after it', async () => {
    const { broker, tap, clock } = setup();
    broker.onCard(tap('04A1'));
    clock.advance(11_000);
    broker.onReadError({ reader: 'R1', at: clock.now(), presentedUid: '08A1B2C3' });
    await expect(broker.nextTap(1000)).resolves.toMatchObject({ uid: '08A1B2C3', inadmissible: true });
  });

  it('an inadmissible UID does not take the place of a usable card held before it', async () => {
    const { broker, tap, clock } = setup();
    broker.onCard(tap('04A1'));
    broker.onReadError({ reader: 'R1', at: clock.now(), presentedUid: '08A1B2C3' });
    await expect(broker.nextTap(1000)).resolves.toMatchObject({ uid: '04A1' });
  });

  it('an inadmissible UID at an open session does not lock it; it is held for the next request', async () => {
    const { broker, tapouts, tap, clock } = setup();
    const p = broker.nextTap(1000);
    broker.onCard(tap('04A1'));
    await p;
    broker.onReadError({ reader: 'R1', at: clock.now(), presentedUid: '08A1B2C3' });
    expect(tapouts).toEqual([]);
    await expect(broker.nextTap(1000)).resolves.toMatchObject({ uid: '08A1B2C3', inadmissible: true });
    broker.onCard(tap('04A1'));
    expect(tapouts).toEqual([{ uid: '04A1', reader: 'R1', signal: 'tap' }]);
  });
});

describe('tap broker: withdrawn requests', () => {
  it('a request withdrawn before the tap does not take it; the next request does', async () => {
    const { broker, tap } = setup();
    const gone = new AbortController();
    const stale = broker.nextTap(1000, gone.signal).catch((e: unknown) => (isCardauthError(e) ? e.code : 'untyped'));
    gone.abort();
    expect(await stale).toBe('tap_timeout');
    const fresh = broker.nextTap(1000);
    broker.onCard(tap('04F1'));
    await expect(fresh).resolves.toMatchObject({ uid: '04F1' });
  });
});

describe('tap broker: one request waits at a time', () => {
  it('a newer request supersedes the one waiting, which fails with superseded; the tap goes to the newer one', async () => {
    const { broker, tap } = setup();
    const hidden = outcome(broker.nextTap(1000));
    const page = outcome(broker.nextTap(1000));
    expect(await hidden).toBe('superseded');
    broker.onCard(tap('04A1'));
    expect(await page).toBe('04A1');
  });
});

describe('tap broker: tap-out comes first', () => {
  /** 04A1 tapped for a login: it is the active card. */
  async function activeCard() {
    const t = setup();
    const p = t.broker.nextTap(1000);
    t.broker.onCard(t.tap('04A1'));
    await p;
    return t;
  }

  it('the active card tapped again while a request waits is a tap-out; the request does not get it and keeps waiting for another card', async () => {
    const { broker, tapouts, tap } = await activeCard();
    let got: string | undefined;
    const waiting = outcome(broker.nextTap(1000)).then((r) => (got = r));
    broker.onCard(tap('04A1'));
    expect(tapouts).toEqual([{ uid: '04A1', reader: 'R1', signal: 'tap' }]);
    await Promise.resolve();
    expect(got).toBeUndefined();
    broker.onCard(tap('04B2'));
    expect(await waiting).toBe('04B2');
    expect(tapouts).toHaveLength(1); // the tapped-out card is no longer active: no switch
  });

  it('a tap-out that locked nothing (no session of the card was open) goes to the waiting request after all', async () => {
    const { broker, tap } = await activeCard();
    const waiting = outcome(broker.nextTap(1000));
    broker.onCard(tap('04A1'));
    broker.tapoutLockedNothing('04A1');
    expect(await waiting).toBe('04A1');
  });

  it('…and with nobody waiting it is held for the next request', async () => {
    const { broker, tap } = await activeCard();
    broker.onCard(tap('04A1'));
    broker.tapoutLockedNothing('04A1');
    expect(await outcome(broker.nextTap(1000))).toBe('04A1');
  });

  it('…but not once another card came, nor after holdMs', async () => {
    const { broker, tap, clock } = await activeCard();
    broker.onCard(tap('04A1'));
    broker.onCard(tap('04B2')); // held: nobody waits
    broker.tapoutLockedNothing('04A1');
    expect(await outcome(broker.nextTap(1000))).toBe('04B2');

    broker.onCard(tap('04B2')); // 04B2 is active now: a tap-out
    clock.advance(10_001);
    broker.tapoutLockedNothing('04B2');
    expect(await outcome(broker.nextTap(20))).toBe('tap_timeout');
  });
});

