import { expect } from 'vitest';

/** What tests keep of failures and output, to assert on them (and that no secret is in them). */

/** What `work` threw; fails the test when it did not throw. */
export async function failureOf(work: Promise<unknown>): Promise<unknown> {
  const outcome = await work.then(
    (value: unknown) => ({ threw: false as const, value }),
    (error: unknown) => ({ threw: true as const, error }),
  );
  expect(outcome.threw, 'expected the call to fail').toBe(true);
  return outcome.threw ? outcome.error : undefined;
}

/** Everything written to stdout and stderr from now on (Nest's logger writes there), still passed through. */
export function captureOutput(): { text(): string; restore(): void } {
  const written: string[] = [];
  const originals = [process.stdout, process.stderr].map((stream) => {
    const write = stream.write;
    stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      written.push(String(chunk));
      return write.call(stream, chunk, ...rest);
    }) as typeof stream.write;
    return () => void (stream.write = write);
  });
  return { text: () => written.join(''), restore: () => originals.forEach((restore) => restore()) };
}

/** Uncaught exceptions and unhandled rejections from now on: a process that lives has none. */
export function captureCrashes(): { crashes: unknown[]; stop(): void } {
  const crashes: unknown[] = [];
  const record = (error: unknown) => void crashes.push(error);
  process.on('uncaughtException', record).on('unhandledRejection', record);
  return { crashes, stop: () => void process.off('uncaughtException', record).off('unhandledRejection', record) };
}
