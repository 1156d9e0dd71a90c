/**
 * Due times for many ids on one timer: each id sits in a slot of `tickMs` (its due time rounded
 * up), and a single timer fires at the earliest slot. Ten thousand unacked configs cost a map
 * entry each instead of ten thousand timers.
 */
export class RetryWheel {
  private readonly slots = new Map<number, Set<string>>();
  private readonly slotOf = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly fire: (ids: string[]) => void,
    private readonly tickMs = 50,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** `id` falls due in `delayMs` (replacing any earlier schedule of it). */
  schedule(id: string, delayMs: number): void {
    this.remove(id);
    const slot = Math.ceil((this.nowMs() + delayMs) / this.tickMs) * this.tickMs;
    let ids = this.slots.get(slot);
    if (!ids) {
      ids = new Set();
      this.slots.set(slot, ids);
    }
    ids.add(id);
    this.slotOf.set(id, slot);
    if (slot < this.timerAt) this.arm(slot);
  }

  remove(id: string): void {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return;
    this.slotOf.delete(id);
    const ids = this.slots.get(slot);
    ids?.delete(id);
    if (ids?.size === 0) this.slots.delete(slot);
  }

  get size(): number {
    return this.slotOf.size;
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
    this.slots.clear();
    this.slotOf.clear();
  }

  private arm(slot: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = slot;
    this.timer = setTimeout(() => this.run(), Math.max(0, slot - this.nowMs()));
    this.timer.unref();
  }

  private run(): void {
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.nowMs();
    const due: string[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const [slot, ids] of this.slots) {
      if (slot > now) {
        next = Math.min(next, slot);
        continue;
      }
      this.slots.delete(slot);
      for (const id of ids) {
        this.slotOf.delete(id);
        due.push(id);
      }
    }
    if (next !== Number.POSITIVE_INFINITY) this.arm(next);
    if (due.length > 0) this.fire(due);
  }
}
