/**
 * Runs tasks one at a time per key, in call order. DNS providers replace whole record sets, so
 * two read-modify-write updates of one name (acme-client's parallel authorizations) would
 * otherwise lose one of the values.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    try {
      return await result;
    } finally {
      // Only the last task of a chain removes the key, so the map does not grow with names.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
