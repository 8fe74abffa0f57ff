/**
 * Resolves once `condition` holds, checking every few milliseconds; fails with `failure` after
 * `timeoutMs`. For real processes and sockets, where the test must wait for something to happen
 * rather than for time to pass.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, failure: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(failure);
}
