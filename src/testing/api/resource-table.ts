import type { PipedriveEmulatorRecord } from '../emulator.types.js';

export type ItemId = PipedriveEmulatorRecord['id'];
export type Item = PipedriveEmulatorRecord;

/** One resource's items for one company, kept in id (= insertion) order for pagination. */
export class ResourceTable {
  private readonly byId = new Map<ItemId, Item>();
  private readonly order: Item[] = [];
  private lastId = 0;

  get size(): number {
    return this.order.length;
  }

  /** Numeric ids only grow, so sorted order and insertion order are the same. */
  nextSerial(): number {
    return ++this.lastId;
  }

  get(id: ItemId): Item | undefined {
    return this.byId.get(id);
  }

  /** The n-th item (0-based) in id order, for seeding links. */
  at(index: number): Item | undefined {
    return this.order[index];
  }

  insert(item: Item): Item {
    this.byId.set(item.id, item);
    this.order.push(item);
    return item;
  }

  replace(item: Item): void {
    const index = this.indexOf(item.id);
    this.byId.set(item.id, item);
    this.order[index] = item;
  }

  remove(id: ItemId): boolean {
    if (!this.byId.delete(id)) return false;
    this.order.splice(this.indexOf(id), 1);
    return true;
  }

  /** Items after the one with id `afterId` (numeric ids), up to `limit`, plus whether more follow. */
  after(afterId: number, limit: number, keep?: (item: Item) => boolean): { items: Item[]; more: boolean } {
    const items: Item[] = [];
    for (let i = this.firstAbove(afterId); i < this.order.length; i++) {
      const item = this.order[i]!;
      if (keep && !keep(item)) continue;
      if (items.length === limit) return { items, more: true };
      items.push(item);
    }
    return { items, more: false };
  }

  /** Items from offset `start`, up to `limit`, plus whether more follow. */
  slice(start: number, limit: number, keep?: (item: Item) => boolean): { items: Item[]; more: boolean } {
    const matching = keep ? this.order.filter(keep) : this.order;
    return { items: matching.slice(start, start + limit), more: matching.length > start + limit };
  }

  all(): Item[] {
    return this.order.slice();
  }

  private indexOf(id: ItemId): number {
    if (typeof id !== 'number') return this.order.findIndex((item) => item.id === id);
    const index = this.firstAbove(id - 1);
    return this.order[index]?.id === id ? index : -1;
  }

  /** Binary search: first position whose id is greater than `id`. */
  private firstAbove(id: number): number {
    let low = 0;
    let high = this.order.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.order[mid]!.id as number) <= id) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
