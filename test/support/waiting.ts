import type { ManualClock } from '../../src/testing/index.js';

/**
 * How tests wait. Time that the library measures is a `ManualClock` the test advances; what remains
 * real (other processes, sockets, the event loop) is waited for as a condition, never for a fixed time.
 */

/**
 * Resolves once `condition` holds, checking every few milliseconds. The limit only turns a hang into
 * a failure naming `what`; it is never the thing tested.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, limitMs = 20_000): Promise<void> {
  const giveUp = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > giveUp) throw new Error(`Gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Settles `work`, which waits on `clock`: whenever it sleeps, the clock moves on by `stepMs`. For code
 * whose waits depend on I/O between them (a lease poll), where one `advance()` could wake it too early.
 */
export async function advanceWhileWaiting<T>(clock: ManualClock, work: Promise<T>, stepMs: number): Promise<T> {
  let settled = false;
  const done = work.finally(() => (settled = true));
  done.catch(() => undefined);
  while (!settled) {
    await waitFor(() => settled || clock.pendingSleeps > 0, 'the code under test to sleep on the clock or finish');
    if (!settled) await clock.advance(stepMs);
  }
  return done;
}

/** Waits until `check` passes (returns without throwing), polling; fails with the check's last error after `timeoutMs`. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
