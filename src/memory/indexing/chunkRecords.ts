// Owns what is stored for a file and its chunks besides the vector: the file's content hash
// (which decides whether it is re-chunked), each chunk's content hash (which decides whether it is
// re-embedded), its code tokens for full-text search, and the text its embedding is computed from.
import { createHash } from 'node:crypto';
import { codeTokens } from '../embeddings/codeTokens.js';
import type { ChunkFields } from '../store/chunkStore.js';
import { chunkFile } from './chunker.js';

/**
 * Part of every file hash: bump it when chunking or tokenising changes, so that the next index
 * call re-chunks every file (chunks whose content did not change still keep their vectors).
 */
const INDEX_FORMAT = 'autobuild-index-v1';

export function fileHash(language: string, content: Buffer | string): string {
  return createHash('sha256').update(`${INDEX_FORMAT}\0${language}\0`).update(content).digest('hex');
}

export function decodeText(content: Buffer | string): string {
  const text = typeof content === 'string' ? content : content.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export async function chunkRecords(path: string, language: string, text: string): Promise<ChunkFields[]> {
  const pathTokens = codeTokens(path).join(' ');
  const chunks = await chunkFile(path, text, language);
  return chunks.map((chunk) => ({
    path,
    startLine: chunk.startLine,
    endLine: chunk.endLine,
    language: chunk.language,
    symbol: chunk.symbol,
    kind: chunk.kind,
    content: chunk.content,
    contentHash: createHash('sha256').update(chunk.content).digest('hex'),
    symbolTokens: codeTokens(chunk.symbol ?? '').join(' '),
    pathTokens,
    contentTokens: codeTokens(chunk.content).join(' '),
  }));
}

/**
 * What a chunk's vector is computed from: its path (the module says what the code is about) and
 * its content. Vectors are reused only for the same content in the same file, so they stay exact.
 */
export function embeddingText(chunk: Pick<ChunkFields, 'path' | 'content'>): string {
  return `${chunk.path}\n${chunk.content}`;
}
