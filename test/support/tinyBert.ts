// Owns the tiny BERT-shaped test model: writes a complete transformers.js model directory
// (config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx) with a hand-encoded
// ONNX graph and seeded random weights, so the MiniLM path can be tested offline for real.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface TinyBertOptions {
  /** Width of last_hidden_state (default 32). */
  hiddenSize?: number;
  /** Position table size, also the tokenizer's model_max_length (default 64). */
  maxPositions?: number;
  /** Which ONNX files to write under onnx/ (default ['model.onnx'], the fp32 name). */
  onnxFiles?: string[];
  /** Seed of the weights (default 1). */
  seed?: number;
}

export const TINY_BERT_HIDDEN_SIZE = 32;
export const TINY_BERT_MAX_POSITIONS = 64;

const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const WORDS = [
  'the', 'a', 'an', 'of', 'to', 'in', 'is', 'and', 'or', 'for', 'with', 'on', 'by', 'from', 'this', 'that',
  'function', 'return', 'const', 'let', 'class', 'import', 'export', 'async', 'await', 'new', 'if', 'else',
  'user', 'users', 'login', 'logout', 'password', 'token', 'session', 'auth', 'authenticate', 'authentication',
  'parse', 'csv', 'row', 'rows', 'column', 'file', 'read', 'write', 'data', 'error', 'string', 'number',
  'list', 'map', 'key', 'value', 'query', 'search', 'index', 'model', 'vector', 'embed', 'text', 'code',
  'cat', 'dog', 'sat', 'mat', 'hello', 'world', 'test', 'job', 'queue', 'memory', 'database', 'server',
];
const PUNCTUATION = ['(', ')', '{', '}', '[', ']', '.', ',', ';', ':', '=', '"', "'", '_', '-', '/', '<', '>', '+', '*', '!', '?', '#', '@', '&', '|', '`'];
const LETTERS = 'abcdefghijklmnopqrstuvwxyz0123456789'.split('');

/** The WordPiece vocabulary: specials first (ids 0..4), then words, punctuation, letters and ##-pieces. */
export function tinyBertVocab(): string[] {
  const pieces = ['##s', '##ing', '##ed', '##er', '##ion', '##ate', ...LETTERS.map((c) => `##${c}`)];
  return [...SPECIAL_TOKENS, ...WORDS, ...PUNCTUATION, ...LETTERS, ...pieces];
}

/** Writes `<dir>/<name>/` laid out as transformers.js expects a local or cached model. */
export async function createTinyBertModel(dir: string, name: string, options: TinyBertOptions = {}): Promise<void> {
  const hidden = options.hiddenSize ?? TINY_BERT_HIDDEN_SIZE;
  const maxPositions = options.maxPositions ?? TINY_BERT_MAX_POSITIONS;
  const onnxFiles = options.onnxFiles ?? ['model.onnx'];
  const vocab = tinyBertVocab();
  const root = path.join(dir, name);
  await mkdir(path.join(root, 'onnx'), { recursive: true });

  const config = {
    architectures: ['BertModel'],
    model_type: 'bert',
    hidden_size: hidden,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    intermediate_size: hidden * 2,
    hidden_act: 'gelu',
    max_position_embeddings: maxPositions,
    type_vocab_size: 2,
    vocab_size: vocab.length,
    layer_norm_eps: 1e-12,
    pad_token_id: 0,
  };
  await writeFile(path.join(root, 'config.json'), JSON.stringify(config, null, 2));
  await writeFile(path.join(root, 'tokenizer.json'), JSON.stringify(tokenizerJson(vocab), null, 2));
  await writeFile(path.join(root, 'tokenizer_config.json'), JSON.stringify({
    tokenizer_class: 'BertTokenizer',
    do_lower_case: true,
    model_max_length: maxPositions,
    cls_token: '[CLS]', sep_token: '[SEP]', pad_token: '[PAD]', unk_token: '[UNK]', mask_token: '[MASK]',
    clean_up_tokenization_spaces: true,
  }, null, 2));
  const onnx = tinyBertOnnx(vocab.length, hidden, maxPositions, options.seed ?? 1);
  for (const file of onnxFiles) await writeFile(path.join(root, 'onnx', file), onnx);
}

function tokenizerJson(vocab: string[]): unknown {
  const id = (token: string): number => vocab.indexOf(token);
  const special = (token: string) => ({ id: token, ids: [id(token)], tokens: [token] });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content) => ({
      id: id(content), content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
    })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: { '[CLS]': special('[CLS]'), '[SEP]': special('[SEP]') },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((token, index) => [token, index])),
    },
  };
}

// ---- The ONNX graph --------------------------------------------------------------------------
// last_hidden_state = mask * (h + tanh(h·W + b)), h = LayerNorm(word[ids] + position[0..S) + type[tt]).

const FLOAT = 1;
const INT64 = 7;
const ATTR_FLOAT = 1;
const ATTR_INT = 2;

function tinyBertOnnx(vocabSize: number, hidden: number, maxPositions: number, seed: number): Uint8Array {
  const random = mulberry32(seed);
  const randomFloats = (n: number, scale: number): Float32Array =>
    Float32Array.from({ length: n }, () => (random() * 2 - 1) * scale);

  const initializers = [
    floatTensor('word_embeddings', [vocabSize, hidden], randomFloats(vocabSize * hidden, 1)),
    floatTensor('position_embeddings', [maxPositions, hidden], randomFloats(maxPositions * hidden, 0.1)),
    floatTensor('token_type_embeddings', [2, hidden], randomFloats(2 * hidden, 0.1)),
    floatTensor('ln_scale', [hidden], Float32Array.from({ length: hidden }, () => 1)),
    floatTensor('ln_bias', [hidden], new Float32Array(hidden)),
    floatTensor('dense_w', [hidden, hidden], randomFloats(hidden * hidden, 1 / Math.sqrt(hidden))),
    floatTensor('dense_b', [hidden], randomFloats(hidden, 0.1)),
    int64Tensor('zero', [], [0n]),
    int64Tensor('one', [], [1n]),
    int64Tensor('last_axis', [1], [-1n]),
  ];
  const nodes = [
    node('Gather', ['word_embeddings', 'input_ids'], ['words']),
    node('Shape', ['input_ids'], ['ids_shape']),
    node('Gather', ['ids_shape', 'one'], ['seq_len']),
    node('Range', ['zero', 'seq_len', 'one'], ['position_ids']),
    node('Gather', ['position_embeddings', 'position_ids'], ['positions']),
    node('Gather', ['token_type_embeddings', 'token_type_ids'], ['types']),
    node('Add', ['words', 'positions'], ['sum1']),
    node('Add', ['sum1', 'types'], ['sum2']),
    node('LayerNormalization', ['sum2', 'ln_scale', 'ln_bias'], ['normed'], [intAttr('axis', -1), floatAttr('epsilon', 1e-12)]),
    node('MatMul', ['normed', 'dense_w'], ['dense']),
    node('Add', ['dense', 'dense_b'], ['dense_biased']),
    node('Tanh', ['dense_biased'], ['activated']),
    node('Add', ['normed', 'activated'], ['hidden']),
    node('Cast', ['attention_mask'], ['mask_float'], [intAttr('to', FLOAT)]),
    node('Unsqueeze', ['mask_float', 'last_axis'], ['mask3']),
    node('Mul', ['hidden', 'mask3'], ['last_hidden_state']),
  ];
  const dims = ['batch_size', 'sequence_length'];
  const graph = message([
    ...nodes.map((n) => bytesField(1, n)),
    stringField(2, 'tiny_bert'),
    ...initializers.map((t) => bytesField(5, t)),
    bytesField(11, valueInfo('input_ids', INT64, dims)),
    bytesField(11, valueInfo('attention_mask', INT64, dims)),
    bytesField(11, valueInfo('token_type_ids', INT64, dims)),
    bytesField(12, valueInfo('last_hidden_state', FLOAT, [...dims, hidden])),
  ]);
  return message([
    varintField(1, 8n), // ir_version 8
    stringField(2, 'autobuild-tests'),
    bytesField(7, graph),
    bytesField(8, message([stringField(1, ''), varintField(2, 17n)])), // default opset 17
  ]);
}

function node(opType: string, inputs: string[], outputs: string[], attributes: Uint8Array[] = []): Uint8Array {
  return message([
    ...inputs.map((name) => stringField(1, name)),
    ...outputs.map((name) => stringField(2, name)),
    stringField(3, `${opType}_${outputs[0] ?? ''}`),
    stringField(4, opType),
    ...attributes.map((a) => bytesField(5, a)),
  ]);
}

function intAttr(name: string, value: number): Uint8Array {
  return message([stringField(1, name), varintField(3, BigInt(value)), varintField(20, BigInt(ATTR_INT))]);
}

function floatAttr(name: string, value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setFloat32(0, value, true);
  return message([stringField(1, name), concat([tag(2, 5), bytes]), varintField(20, BigInt(ATTR_FLOAT))]);
}

function floatTensor(name: string, dims: number[], values: Float32Array): Uint8Array {
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return message([...dims.map((d) => varintField(1, BigInt(d))), varintField(2, BigInt(FLOAT)), stringField(8, name), bytesField(9, raw)]);
}

function int64Tensor(name: string, dims: number[], values: bigint[]): Uint8Array {
  const raw = new Uint8Array(values.length * 8);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, v, true));
  return message([...dims.map((d) => varintField(1, BigInt(d))), varintField(2, BigInt(INT64)), stringField(8, name), bytesField(9, raw)]);
}

function valueInfo(name: string, elemType: number, dims: (string | number)[]): Uint8Array {
  const shape = message(dims.map((d) => bytesField(1, typeof d === 'string' ? message([stringField(2, d)]) : message([varintField(1, BigInt(d))]))));
  const tensorType = message([varintField(1, BigInt(elemType)), bytesField(2, shape)]);
  return message([stringField(1, name), bytesField(2, message([bytesField(1, tensorType)]))]);
}

// ---- Protobuf wire format --------------------------------------------------------------------

function varint(value: bigint): Uint8Array {
  let v = BigInt.asUintN(64, value); // negative int64 values take ten bytes, two's complement
  const out: number[] = [];
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? byte | 0x80 : byte);
  } while (v > 0n);
  return Uint8Array.from(out);
}

function tag(field: number, wireType: number): Uint8Array {
  return varint(BigInt((field << 3) | wireType));
}

function varintField(field: number, value: bigint): Uint8Array {
  return concat([tag(field, 0), varint(value)]);
}

function bytesField(field: number, bytes: Uint8Array): Uint8Array {
  return concat([tag(field, 2), varint(BigInt(bytes.length)), bytes]);
}

function stringField(field: number, value: string): Uint8Array {
  return bytesField(field, new TextEncoder().encode(value));
}

function message(fields: Uint8Array[]): Uint8Array {
  return concat(fields);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
