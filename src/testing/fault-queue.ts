interface Entry<T, F> {
  remaining: number;
  fault: T;
  filter?: F;
}

/** Faults armed for the next N matching requests; taken in the order they were armed. */
export class FaultQueue<T, F = undefined> {
  private readonly entries: Array<Entry<T, F>> = [];

  arm(count: number, fault: T, filter?: F): void {
    if (count > 0) this.entries.push({ remaining: count, fault, filter });
  }

  /** The fault for this request, consumed; `matches` decides whether a filtered entry applies. */
  take(matches?: (filter: F) => boolean): T | undefined {
    if (this.entries.length === 0) return undefined;
    const index = this.entries.findIndex((e) => e.filter === undefined || (matches?.(e.filter) ?? false));
    if (index < 0) return undefined;
    const entry = this.entries[index]!;
    if (--entry.remaining === 0) this.entries.splice(index, 1);
    return entry.fault;
  }

  clear(): void {
    this.entries.length = 0;
  }
}
