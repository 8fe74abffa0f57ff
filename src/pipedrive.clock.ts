import { Inject } from '@nestjs/common';

/**
 * The library's notion of time. Everything that decides by time (token expiry and refresh-ahead,
 * refresh leases and back-off, OAuth state and session expiry, the sweeper, the client's pacing)
 * reads `now()` and waits through `sleep()`, so a test can replace the clock and advance time
 * instead of waiting for it (`ManualClock` in `nestjs-pipedrive/testing`).
 */
export interface PipedriveClock {
  /** Epoch milliseconds. */
  now(): number;
  /**
   * Resolves once `ms` have passed on this clock; rejects with the signal's reason when it aborts first.
   * `ref: false` lets the process exit while only this sleep is pending (background loops such as the
   * refresh sweep); a clock without real timers ignores it.
   */
  sleep(ms: number, signal?: AbortSignal, options?: { ref?: boolean }): Promise<void>;
}

/**
 * Injection token of the clock: type and token share the name. Override it in a test module with
 * `.overrideProvider(PipedriveClock).useValue(new ManualClock())`.
 */
export const PipedriveClock = Symbol('PipedriveClock');
/** Injects the `PipedriveClock` the module uses. */
export const InjectPipedriveClock = (): ParameterDecorator => Inject(PipedriveClock);

/** Wall-clock time and real timers; the default. */
export const systemClock: PipedriveClock = {
  now: () => Date.now(),
  sleep(ms: number, signal?: AbortSignal, options?: { ref?: boolean }): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      if (options?.ref === false) timer.unref();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};
