// The embedded database: PGlite in a directory under AUTOBUILD_HOME (or in memory for tests).
import { PGlite, type PGliteOptions, type Transaction } from '@electric-sql/pglite';
import { assertChannelName, type Database, type Queryable } from './database.js';

export async function openPglite(dataDir: string | undefined, extensions: PGliteOptions['extensions'] = {}): Promise<Database> {
  const pg = await PGlite.create({ dataDir, extensions });
  const wrap = (q: PGlite | Transaction): Queryable => ({
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      const result = await q.query<Row>(sql, params as unknown[]);
      return result.rows;
    },
    async exec(sql: string) {
      await q.exec(sql);
    },
  });
  const root = wrap(pg);
  return {
    kind: 'pglite',
    query: root.query,
    exec: root.exec,
    // PGlite is a single connection: its transaction() holds it exclusively, so there are no
    // serialization failures to retry.
    transaction: (fn) => pg.transaction((tx) => fn(wrap(tx))),
    async listen(channel, onNotify) {
      assertChannelName(channel);
      const unsubscribe = await pg.listen(channel, onNotify);
      return async () => {
        if (!pg.closed) await unsubscribe();
      };
    },
    async close() {
      if (!pg.closed) await pg.close();
    },
  };
}
