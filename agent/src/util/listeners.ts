/** A small typed listener list (the port does not expose Node's EventEmitter). */
export class Listeners<T> {
  private readonly list = new Set<(value: T) => void>();

  /** Listeners registered now (skip building a value nobody listens to). */
  get size(): number {
    return this.list.size;
  }

  add(listener: (value: T) => void): () => void {
    this.list.add(listener);
    return () => this.list.delete(listener);
  }

  /** Calls every listener; a listener that throws is reported to `onError` and does not stop the others. */
  emit(value: T, onError: (error: unknown) => void): void {
    for (const listener of [...this.list]) {
      try {
        listener(value);
      } catch (error) {
        onError(error);
      }
    }
  }
}
