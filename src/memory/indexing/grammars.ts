// Tree-sitter grammars for the chunker: which node types are definitions in each language, how a
// definition is named, and the lazy, once-per-process loading of each grammar's parser.
import { createRequire } from 'node:module';
import path from 'node:path';
import { Language, Parser } from 'web-tree-sitter';
import type { Node } from 'web-tree-sitter';

/** What a definition is, before its position (top level or inside a class) refines it. */
export type DefinitionKind = 'function' | 'class' | 'type' | 'module';

export interface GrammarSpec {
  /** File name in tree-sitter-wasms/out. */
  wasm: string;
  /** Node type → kind of the definitions it declares. */
  definitions: Readonly<Record<string, DefinitionKind>>;
  /** Definitions whose members become chunks of their own when the definition is too big. */
  containers: ReadonlySet<string>;
  /** Nodes that wrap a definition and share its lines (`export`, decorators, templates). */
  wrappers: ReadonlySet<string>;
  /** Siblings that belong to the definition right after them (doc comments, decorators, attributes). */
  attached: ReadonlySet<string>;
}

const set = (...types: string[]): ReadonlySet<string> => new Set(types);
const COMMENTS = ['comment', 'line_comment', 'block_comment', 'multiline_comment'];

const JS_DEFINITIONS: Record<string, DefinitionKind> = {
  function_declaration: 'function', generator_function_declaration: 'function', function_expression: 'function',
  method_definition: 'function', class_declaration: 'class', class: 'class', abstract_class_declaration: 'class',
  interface_declaration: 'type', type_alias_declaration: 'type', enum_declaration: 'type',
  internal_module: 'module', module: 'module',
};
const JS_SPEC = (wasm: string): GrammarSpec => ({
  wasm,
  definitions: JS_DEFINITIONS,
  containers: set('class_declaration', 'class', 'abstract_class_declaration', 'internal_module', 'module'),
  wrappers: set('export_statement', 'expression_statement', 'ambient_declaration'),
  attached: set('comment', 'decorator'),
});

const C_DEFINITIONS: Record<string, DefinitionKind> = {
  function_definition: 'function', struct_specifier: 'type', union_specifier: 'type', enum_specifier: 'type',
  type_definition: 'type',
};

export const GRAMMARS: Readonly<Record<string, GrammarSpec>> = {
  typescript: JS_SPEC('tree-sitter-typescript.wasm'),
  tsx: JS_SPEC('tree-sitter-tsx.wasm'),
  javascript: JS_SPEC('tree-sitter-javascript.wasm'),
  python: {
    wasm: 'tree-sitter-python.wasm',
    definitions: { function_definition: 'function', class_definition: 'class' },
    containers: set('class_definition'),
    wrappers: set('decorated_definition'),
    attached: set('comment'),
  },
  go: {
    wasm: 'tree-sitter-go.wasm',
    definitions: { function_declaration: 'function', method_declaration: 'function', type_declaration: 'type' },
    containers: set(),
    wrappers: set(),
    attached: set('comment'),
  },
  rust: {
    wasm: 'tree-sitter-rust.wasm',
    definitions: {
      function_item: 'function', struct_item: 'type', enum_item: 'type', union_item: 'type', trait_item: 'type',
      type_item: 'type', impl_item: 'class', mod_item: 'module', macro_definition: 'function',
    },
    containers: set('impl_item', 'trait_item', 'mod_item'),
    wrappers: set(),
    attached: set('line_comment', 'block_comment', 'attribute_item'),
  },
  java: {
    wasm: 'tree-sitter-java.wasm',
    definitions: {
      method_declaration: 'function', constructor_declaration: 'function', class_declaration: 'class',
      record_declaration: 'class', interface_declaration: 'type', enum_declaration: 'type',
      annotation_type_declaration: 'type',
    },
    containers: set('class_declaration', 'record_declaration', 'interface_declaration', 'enum_declaration'),
    wrappers: set(),
    attached: set('line_comment', 'block_comment'),
  },
  c: {
    wasm: 'tree-sitter-c.wasm',
    definitions: C_DEFINITIONS,
    containers: set(),
    wrappers: set(),
    attached: set('comment'),
  },
  cpp: {
    wasm: 'tree-sitter-cpp.wasm',
    definitions: { ...C_DEFINITIONS, class_specifier: 'class', struct_specifier: 'class', namespace_definition: 'module' },
    containers: set('class_specifier', 'struct_specifier', 'namespace_definition'),
    wrappers: set('template_declaration'),
    attached: set('comment'),
  },
  ruby: {
    wasm: 'tree-sitter-ruby.wasm',
    definitions: { method: 'function', singleton_method: 'function', class: 'class', module: 'module' },
    containers: set('class', 'module'),
    wrappers: set(),
    attached: set('comment'),
  },
  csharp: {
    wasm: 'tree-sitter-c_sharp.wasm',
    definitions: {
      method_declaration: 'function', constructor_declaration: 'function', class_declaration: 'class',
      struct_declaration: 'class', record_declaration: 'class', interface_declaration: 'type',
      enum_declaration: 'type', namespace_declaration: 'module',
    },
    containers: set('class_declaration', 'struct_declaration', 'record_declaration', 'interface_declaration', 'namespace_declaration'),
    wrappers: set(),
    attached: set('comment'),
  },
  php: {
    wasm: 'tree-sitter-php.wasm',
    definitions: {
      function_definition: 'function', method_declaration: 'function', class_declaration: 'class',
      trait_declaration: 'class', interface_declaration: 'type', enum_declaration: 'type',
    },
    containers: set('class_declaration', 'trait_declaration', 'interface_declaration'),
    wrappers: set(),
    attached: set('comment', 'attribute_list'),
  },
  kotlin: {
    wasm: 'tree-sitter-kotlin.wasm',
    definitions: { function_declaration: 'function', class_declaration: 'class', object_declaration: 'class' },
    containers: set('class_declaration', 'object_declaration'),
    wrappers: set(),
    attached: set(...COMMENTS),
  },
  swift: {
    wasm: 'tree-sitter-swift.wasm',
    definitions: {
      function_declaration: 'function', init_declaration: 'function', class_declaration: 'class',
      protocol_declaration: 'type',
    },
    containers: set('class_declaration', 'protocol_declaration'),
    wrappers: set(),
    attached: set(...COMMENTS),
  },
  scala: {
    wasm: 'tree-sitter-scala.wasm',
    definitions: {
      function_definition: 'function', class_definition: 'class', object_definition: 'class',
      trait_definition: 'type',
    },
    containers: set('class_definition', 'object_definition', 'trait_definition'),
    wrappers: set(),
    attached: set('comment', 'block_comment'),
  },
  bash: {
    wasm: 'tree-sitter-bash.wasm',
    definitions: { function_definition: 'function' },
    containers: set(),
    wrappers: set(),
    attached: set('comment'),
  },
};

const FUNCTION_VALUES = set('arrow_function', 'function_expression', 'function', 'generator_function');
const IDENTIFIERS = set(
  'identifier', 'type_identifier', 'simple_identifier', 'constant', 'name', 'property_identifier',
  'field_identifier', 'namespace_identifier', 'user_type', 'scoped_type_identifier',
);
const BODIES = set(
  'class_body', 'declaration_list', 'field_declaration_list', 'body_statement', 'block', 'statement_block',
  'compound_statement', 'template_body', 'enum_class_body', 'protocol_body', 'interface_body', 'enum_body',
);

/** A definition found in the tree: its kind and name, and the node holding its body. */
export interface Definition {
  kind: DefinitionKind | 'method';
  /** The definition itself (inside any wrapper). */
  node: Node;
  name: string | null;
  /** Name its members are qualified with, when it differs from `name` (a Rust `impl Trait for Type`). */
  scope?: string;
}

/** The definition `node` declares (directly or through a wrapper), or null when it declares none. */
export function classify(node: Node, spec: GrammarSpec): Definition | null {
  if (spec.wrappers.has(node.type)) {
    for (const child of node.namedChildren) {
      const inner = child && classify(child, spec);
      if (inner) return inner;
    }
    return null;
  }
  const kind = spec.definitions[node.type];
  if (kind) return namedDefinition(node, kind);
  return functionValued(node);
}

function namedDefinition(node: Node, kind: DefinitionKind): Definition {
  switch (node.type) {
    case 'method_declaration': {
      const receiver = node.childForFieldName('receiver');
      if (!receiver) break;
      const type = receiver.descendantsOfType('type_identifier')[0]?.text;
      const name = node.childForFieldName('name')?.text ?? null;
      return { kind: 'method', node, name: type && name ? `${type}.${name}` : name };
    }
    case 'type_declaration': {
      const names = node.namedChildren.flatMap((c) => (c?.childForFieldName('name') ? [c.childForFieldName('name')!.text] : []));
      return { kind, node, name: names.length ? names.join(', ') : null };
    }
    case 'impl_item': {
      const type = node.childForFieldName('type')?.text ?? null;
      const trait = node.childForFieldName('trait')?.text;
      return { kind, node, name: trait && type ? `${trait} for ${type}` : type, ...(type ? { scope: type } : {}) };
    }
    case 'function_definition':
    case 'type_definition':
      if (node.childForFieldName('declarator')) {
        const name = declaratorName(node);
        return { kind: name?.includes('::') ? 'method' : kind, node, name };
      }
      break;
    case 'function_expression':
    case 'class':
      return { kind, node, name: node.childForFieldName('name')?.text ?? 'default' };
  }
  return { kind, node, name: nameOf(node) };
}

function nameOf(node: Node): string | null {
  const named = node.childForFieldName('name');
  if (named) return named.text;
  for (const child of node.namedChildren) if (child && IDENTIFIERS.has(child.type)) return child.text;
  return null;
}

/** C/C++: the name at the bottom of a chain of (pointer, function, reference) declarators. */
function declaratorName(node: Node): string | null {
  let current = node.childForFieldName('declarator');
  for (let depth = 0; current && depth < 8; depth++) {
    const inner = current.childForFieldName('declarator');
    if (!inner || IDENTIFIERS.has(current.type) || current.type.endsWith('identifier')) return current.text;
    current = inner;
  }
  return current?.text ?? null;
}

/** `const f = () => …`, `handle = () => …` in a class, `module.exports.f = function …`. */
function functionValued(node: Node): Definition | null {
  if (node.type === 'lexical_declaration' || node.type === 'variable_declaration') {
    const declarators = node.namedChildren.filter((c) => c?.type === 'variable_declarator');
    const only = declarators.length === 1 ? declarators[0] : undefined;
    const value = only?.childForFieldName('value');
    if (only && value && FUNCTION_VALUES.has(value.type)) return { kind: 'function', node, name: nameOf(only) };
    return null;
  }
  if (node.type === 'public_field_definition' || node.type === 'field_definition') {
    const value = node.childForFieldName('value');
    const name = node.childForFieldName('name') ?? node.childForFieldName('property');
    if (value && FUNCTION_VALUES.has(value.type)) return { kind: 'function', node, name: name?.text ?? null };
    return null;
  }
  if (node.type === 'assignment_expression') {
    const value = node.childForFieldName('right');
    if (value && FUNCTION_VALUES.has(value.type)) return { kind: 'function', node, name: node.childForFieldName('left')?.text ?? null };
  }
  return null;
}

/** The node holding a container's members, if any. */
export function bodyOf(node: Node): Node | null {
  const body = node.childForFieldName('body');
  if (body) return body;
  for (const child of node.namedChildren) if (child && BODIES.has(child.type)) return child;
  return null;
}

/** Last row of a definition's signature: up to its body's opening line (Python's `:` line). */
export function signatureEndRow(node: Node): number {
  const start = node.startPosition.row;
  const body = bodyOf(node) ?? node.childForFieldName('value') ?? node.childForFieldName('right');
  if (!body) return start;
  if (body.firstChild !== null && !body.firstChild.isNamed) return Math.max(start, body.startPosition.row);
  // A body that opens with a statement (Python, Ruby): the header ends with the last token before it.
  let before = body.previousSibling;
  while (before?.isExtra) before = before.previousSibling;
  return Math.max(start, before ? before.endPosition.row : start);
}

const wasmDir = (): string =>
  path.join(path.dirname(createRequire(import.meta.url).resolve('tree-sitter-wasms/package.json')), 'out');

let runtime: Promise<void> | undefined;
const parsers = new Map<string, Promise<Parser | null>>();

/** The parser of `language`, loaded once per process; null when there is no grammar or it fails to load. */
export function parserFor(language: string): Promise<Parser | null> {
  const spec = GRAMMARS[language];
  if (!spec) return Promise.resolve(null);
  let parser = parsers.get(language);
  if (!parser) {
    parser = (async () => {
      runtime ??= Parser.init();
      await runtime;
      const grammar = await Language.load(path.join(wasmDir(), spec.wasm));
      return new Parser().setLanguage(grammar);
    })().catch(() => null);
    parsers.set(language, parser);
  }
  return parser;
}
