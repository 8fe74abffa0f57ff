/** Runs answers after the configured latency and can cancel all pending ones on close. */
export class Delayer {
  private readonly timers = new Set<NodeJS.Timeout>();

  run(ms: number, answer: () => void): void {
    if (!(ms > 0)) return answer();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      answer();
    }, ms);
    this.timers.add(timer);
  }

  clear(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
