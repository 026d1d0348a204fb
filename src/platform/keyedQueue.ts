// Async work run one at a time per key within this process, in call order; different keys run in
// parallel. Used for a repository's git worktree bookkeeping (process launcher), a project's index
// writer (memory indexer), and the embedded database's named locks (Database.exclusive on PGlite).

export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs work once every earlier work of the key has settled (whether it succeeded or failed). */
  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(work);
    this.tails.set(key, current);
    try {
      return await current;
    } finally {
      if (this.tails.get(key) === current) this.tails.delete(key);
    }
  }
}
