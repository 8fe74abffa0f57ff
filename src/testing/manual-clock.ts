import type { PipedriveClock } from '../pipedrive.clock.js';

interface Sleeper {
  at: number;
  resolve: () => void;
}

/**
 * A {@link PipedriveClock} that moves only when told: `advance()` runs time forward, waking every
 * `sleep()` due on the way in order and letting the code it wakes run before moving on. Use it in
 * place of the system clock (`.overrideProvider(PipedriveClock).useValue(clock)`, and the emulator's
 * `clock` option) so tests of expiry, leases and back-off take no real time.
 */
export class ManualClock implements PipedriveClock {
  private current: number;
  private sleepers: Sleeper[] = [];

  constructor(start: Date | number = Date.UTC(2026, 0, 1)) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const sleeper: Sleeper = { at: this.current + Math.max(0, ms), resolve: () => resolve() };
      this.sleepers.push(sleeper);
      signal?.addEventListener(
        'abort',
        () => {
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  /** Moves time forward by `ms`, waking sleepers due on the way, earliest first. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      await settle();
      const due = this.sleepers.filter((s) => s.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.sleepers = this.sleepers.filter((s) => s !== due);
      this.current = Math.max(this.current, due.at);
      due.resolve();
    }
    this.current = target;
    await settle();
  }

  /** Jumps to a point in time (forward only), as {@link advance} does. */
  advanceTo(time: Date | number): Promise<void> {
    const at = typeof time === 'number' ? time : time.getTime();
    return this.advance(Math.max(0, at - this.current));
  }

  /** How many sleeps are waiting: lets a test wait until the code under test has started to wait. */
  get pendingSleeps(): number {
    return this.sleepers.length;
  }
}

/** Lets promise chains and I/O callbacks woken by a sleeper run before time moves again. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
