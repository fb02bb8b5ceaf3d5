/**
 * Answers to expensive read queries, each kept with the version of the data it was computed from
 * (AggregatesService.cells: the position of agg_changes, read before the query runs). An answer is
 * served again only while the version is unchanged and it is younger than `maxAgeMs`; concurrent
 * callers with the same key and version share one computation. At most `entries` answers, the least
 * recently used dropped first. A failed computation is not kept.
 */
export class AnswerCache<T> {
  private readonly answers = new Map<string, { version: string; at: number; value: Promise<T> }>();

  constructor(
    private readonly entries: number,
    private readonly maxAgeMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get(key: string, version: string, compute: () => Promise<T>): Promise<T> {
    const kept = this.answers.get(key);
    this.answers.delete(key);
    if (kept && kept.version === version && this.now() - kept.at < this.maxAgeMs) {
      this.answers.set(key, kept);
      return kept.value;
    }
    const entry = { version, at: this.now(), value: compute() };
    this.answers.set(key, entry);
    if (this.answers.size > this.entries) this.answers.delete(this.answers.keys().next().value!);
    entry.value.catch(() => {
      if (this.answers.get(key) === entry) this.answers.delete(key);
    });
    return entry.value;
  }

  get size(): number {
    return this.answers.size;
  }
}
