// The checked-in wire types (src/clients/generated) are what openapi-typescript makes of the
// services' OpenAPI documents now: a schema change without `npm run gen:types` fails here.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openapiDocuments, wireTypeFiles } from '../../scripts/genWireTypes.js';
import { ROOT } from '../support/cli.js';

describe('generated wire types', () => {
  let documents: Awaited<ReturnType<typeof openapiDocuments>>;
  beforeAll(async () => {
    documents = await openapiDocuments();
  });

  it('match the services\' OpenAPI documents (run `npm run gen:types` when this fails)', async () => {
    const files = await wireTypeFiles(documents);
    expect(Object.keys(files).sort()).toEqual(['src/clients/generated/memory.ts', 'src/clients/generated/orchestrator.ts']);
    for (const [file, text] of Object.entries(files)) {
      expect(readFileSync(path.join(ROOT, file), 'utf8'), `${file} is stale: run npm run gen:types`).toBe(text);
    }
  });

  it('name the contract\'s objects as components', async () => {
    const { orchestrator, memory } = documents;
    expect(Object.keys(orchestrator.components?.schemas ?? {})).toEqual(expect.arrayContaining(['Job', 'JobResult', 'QueueSnapshot', 'Project', 'Worktree', 'JobEvent', 'JobDiff', 'Health']));
    expect(Object.keys(memory.components?.schemas ?? {})).toEqual(expect.arrayContaining(['SearchResult', 'Memory', 'Pattern', 'ChatAnswer', 'Changelog', 'Health']));
  });
});
