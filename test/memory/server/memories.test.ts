// test/memory/memories.test.ts again, on a PostgreSQL server with pgvector (see onPostgresServer).
import { onPostgresServer } from '../memoryKit.js';

await onPostgresServer(() => import('../memories.test.js'));
