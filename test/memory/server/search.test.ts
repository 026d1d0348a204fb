// test/memory/search.test.ts again, on a PostgreSQL server with pgvector (see onPostgresServer).
import { onPostgresServer } from '../memoryKit.js';

await onPostgresServer(() => import('../search.test.js'));
