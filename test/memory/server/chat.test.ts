// test/memory/chat.test.ts again, on a PostgreSQL server with pgvector (see onPostgresServer).
import { onPostgresServer } from '../memoryKit.js';

await onPostgresServer(() => import('../chat.test.js'));
