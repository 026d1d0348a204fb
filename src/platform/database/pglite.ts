// The embedded database: PGlite in a directory under AUTOBUILD_HOME (or in memory for tests), always
// with pgvector loaded (`up` shares one handle between the orchestrator and the memory service).
import { PGlite, type PGliteOptions, type QueryOptions, type Transaction } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { assertChannelName, type Database, type Queryable } from './database.js';

type Serializer = (value: unknown) => unknown;

/**
 * Parameters that are Uint8Arrays go to the server in binary format, as node-postgres sends them
 * (bytea, pgvector's binary vectors); everything else is serialised as PGlite does by default.
 * PGlite would otherwise `toString()` a Uint8Array for a type it has no serializer for.
 */
function binaryAwareSerializers(pg: PGlite): QueryOptions['serializers'] {
  const own = pg.serializers as Record<string, Serializer | undefined>;
  const handler: ProxyHandler<Record<string, Serializer>> = {
    get: (_target, oid) => {
      const serializer = typeof oid === 'string' ? own[oid] : undefined;
      return (value: unknown) => (value instanceof Uint8Array ? value : serializer ? serializer(value) : String(value));
    },
  };
  return new Proxy({}, handler) as QueryOptions['serializers'];
}

export async function openPglite(dataDir: string | undefined, extensions: PGliteOptions['extensions'] = {}): Promise<Database> {
  const pg = await PGlite.create({ dataDir, extensions: { vector, ...extensions } });
  const options: QueryOptions = { serializers: binaryAwareSerializers(pg) };
  const wrap = (q: PGlite | Transaction): Queryable => ({
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      const result = await q.query<Row>(sql, params as unknown[], params.length > 0 ? options : undefined);
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
