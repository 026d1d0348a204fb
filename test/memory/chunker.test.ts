// Tests of the syntax-aware chunker and of the file checks that come before it (language, skipping).
import { describe, expect, it } from 'vitest';
import { chunkFile } from '../../src/memory/indexing/chunker.js';
import type { ChunkOptions, CodeChunk } from '../../src/memory/indexing/chunker.js';
import { MAX_INDEXED_FILE_BYTES, detectLanguage, shouldSkipFile } from '../../src/memory/indexing/language.js';

/** [kind, symbol, startLine, endLine] of each chunk. */
const outline = (chunks: CodeChunk[]) => chunks.map((c) => [c.kind, c.symbol, c.startLine, c.endLine]);
const exact: ChunkOptions = { minLines: 0 };

/** Every non-blank line of `content` lies in at least one chunk, and every chunk holds its own lines. */
function expectCovered(content: string, chunks: CodeChunk[]): void {
  const lines = content.split('\n');
  const covered = new Set<number>();
  for (const chunk of chunks) {
    expect(chunk.startLine).toBeLessThanOrEqual(chunk.endLine);
    for (let line = chunk.startLine; line <= chunk.endLine; line++) covered.add(line);
    expect(chunk.content.endsWith(lines.slice(chunk.startLine - 1, chunk.endLine).join('\n'))).toBe(true);
  }
  const missing = lines.flatMap((text, i) => (text.trim() && !covered.has(i + 1) ? [i + 1] : []));
  expect(missing).toEqual([]);
}

const TYPESCRIPT = `import { hash } from './hash.js';
import type { User } from './user.js';

/** What a session holds. */
export interface Session {
  user: User;
  expiresAt: Date;
}

export type Token = string;

/**
 * Signs users in and out.
 */
export class AuthService extends BaseService {
  private readonly sessions = new Map<string, Session>();

  @logged()
  async login(user: User, password: string): Promise<Token> {
    const token = hash(user.id + password);
    this.sessions.set(token, { user, expiresAt: new Date() });
    return token;
  }

  logout(token: Token): void {
    this.sessions.delete(token);
  }
}

export const isExpired = (session: Session): boolean => session.expiresAt < new Date();

export function main(): void {
  console.log('ready');
}
`;

const JAVASCRIPT = `'use strict'

const path = require('node:path')

function resolve (root, file) {
  return path.join(root, file)
}

class Cache {
  constructor () {
    this.entries = new Map()
  }

  get (key) {
    return this.entries.get(key)
  }
}

module.exports.load = function load (file) {
  return resolve('.', file)
}
`;

const TSX = `import React from 'react';

interface Props {
  name: string;
}

export function Greeting({ name }: Props) {
  return <h1 className="greeting">Hello, {name}!</h1>;
}

export const Farewell = ({ name }: Props) => <p>Bye, {name}</p>;
`;

const PYTHON = `import os
from dataclasses import dataclass


@dataclass
class Config:
    """Settings read from the environment."""

    root: str

    @classmethod
    def from_env(cls):
        return cls(root=os.environ["ROOT"])

    def path(self, name):
        return os.path.join(self.root, name)


@cache
def parse_args(argv):
    # the first argument is the command
    return argv[1:]


if __name__ == "__main__":
    print(parse_args([]))
`;

const GO = `package server

import "net/http"

// Server answers requests.
type Server struct {
	addr string
}

// New makes a server.
func New(addr string) *Server {
	return &Server{addr: addr}
}

// Run serves until the listener fails.
func (s *Server) Run() error {
	return http.ListenAndServe(s.addr, nil)
}
`;

const RUST = `use std::fmt;

/// A point in the plane.
#[derive(Debug, Clone)]
pub struct Point {
    x: i32,
    y: i32,
}

impl Point {
    pub fn new(x: i32, y: i32) -> Self {
        Point { x, y }
    }

    pub fn norm(&self) -> i32 {
        self.x.abs() + self.y.abs()
    }
}

fn main() {
    println!("{:?}", Point::new(1, 2));
}
`;

const JAVA = `package app.auth;

import java.util.Map;

/** Keeps users. */
public class UserRepository extends Repository {
    private final Map<String, User> users;

    public UserRepository(Map<String, User> users) {
        this.users = users;
    }

    @Override
    public User find(String id) {
        return users.get(id);
    }
}
`;

const C = `#include <stdio.h>

struct point {
    int x;
    int y;
};

/* Adds two numbers. */
static int add(int a, int b) {
    return a + b;
}

int main(void) {
    printf("%d\\n", add(1, 2));
    return 0;
}
`;

const CPP = `#include <string>

namespace geo {

class Shape {
public:
    virtual ~Shape() = default;
    virtual double area() const = 0;
};

double scale(const Shape& shape, double k) {
    return shape.area() * k;
}

}  // namespace geo
`;

const RUBY = `require "json"

# Stores users.
class UserStore
  def initialize(path)
    @path = path
  end

  def load
    JSON.parse(File.read(@path))
  end
end

def helper(x)
  x * 2
end
`;

describe('chunkFile with tree-sitter', () => {
  it('chunks TypeScript: imports, interface, type, class, arrow function and function', async () => {
    const chunks = await chunkFile('src/auth.ts', TYPESCRIPT, 'typescript', exact);
    expect(outline(chunks)).toEqual([
      ['module', null, 1, 2],
      ['type', 'Session', 4, 8],
      ['type', 'Token', 10, 10],
      ['class', 'AuthService', 12, 28],
      ['function', 'isExpired', 30, 30],
      ['function', 'main', 32, 34],
    ]);
    expect(chunks.every((c) => c.path === 'src/auth.ts' && c.language === 'typescript')).toBe(true);
    expect(chunks[3]!.content.startsWith('/**\n * Signs users in and out.\n */\nexport class AuthService')).toBe(true);
    expectCovered(TYPESCRIPT, chunks);
  });

  it('splits a big class into a header and methods that carry the class line as context', async () => {
    const chunks = await chunkFile('src/auth.ts', TYPESCRIPT, 'typescript', { minLines: 0, maxLines: 12 });
    expect(outline(chunks).slice(3, 6)).toEqual([
      ['class', 'AuthService', 12, 16],
      ['method', 'AuthService.login', 18, 23],
      ['method', 'AuthService.logout', 25, 28],
    ]);
    const login = chunks[4]!;
    expect(login.content.split('\n').slice(0, 3)).toEqual([
      'export class AuthService extends BaseService {',
      '  @logged()',
      '  async login(user: User, password: string): Promise<Token> {',
    ]);
    expect(chunks[3]!.content).toContain('private readonly sessions');
    expectCovered(TYPESCRIPT, chunks);
  });

  it('chunks JavaScript, naming assigned functions by their target', async () => {
    const chunks = await chunkFile('lib/cache.js', JAVASCRIPT, undefined, exact);
    expect(outline(chunks)).toEqual([
      ['module', null, 1, 3],
      ['function', 'resolve', 5, 7],
      ['class', 'Cache', 9, 17],
      ['function', 'module.exports.load', 19, 21],
    ]);
    expect(chunks[0]!.language).toBe('javascript');
    expectCovered(JAVASCRIPT, chunks);
  });

  it('chunks TSX components', async () => {
    const chunks = await chunkFile('web/Greeting.tsx', TSX, null, exact);
    expect(outline(chunks)).toEqual([
      ['module', null, 1, 1],
      ['type', 'Props', 3, 5],
      ['function', 'Greeting', 7, 9],
      ['function', 'Farewell', 11, 11],
    ]);
    expect(chunks[0]!.language).toBe('tsx');
  });

  it('chunks Python with decorators inside their definitions', async () => {
    const chunks = await chunkFile('app/config.py', PYTHON, 'python', exact);
    expect(outline(chunks)).toEqual([
      ['module', null, 1, 2],
      ['class', 'Config', 5, 16],
      ['function', 'parse_args', 19, 22],
      ['module', null, 25, 26],
    ]);
    const split = await chunkFile('app/config.py', PYTHON, 'python', { minLines: 0, maxLines: 8 });
    expect(outline(split).slice(1, 4)).toEqual([
      ['class', 'Config', 5, 9],
      ['method', 'Config.from_env', 11, 13],
      ['method', 'Config.path', 15, 16],
    ]);
    expect(split[2]!.content).toBe('class Config:\n    @classmethod\n    def from_env(cls):\n        return cls(root=os.environ["ROOT"])');
    expectCovered(PYTHON, split);
  });

  it('chunks Go functions, methods (named by receiver) and structs with their doc comments', async () => {
    const chunks = await chunkFile('server/server.go', GO, 'go', exact);
    expect(outline(chunks)).toEqual([
      ['module', null, 1, 3],
      ['type', 'Server', 5, 8],
      ['function', 'New', 10, 13],
      ['method', 'Server.Run', 15, 18],
    ]);
  });

  it('chunks Rust structs with attributes, impl methods and functions', async () => {
    const chunks = await chunkFile('src/point.rs', RUST, 'rust', exact);
    expect(outline(chunks)).toEqual([
      ['module', null, 1, 1],
      ['type', 'Point', 3, 8],
      ['class', 'Point', 10, 18],
      ['function', 'main', 20, 22],
    ]);
    const split = await chunkFile('src/point.rs', RUST, 'rust', { minLines: 0, maxLines: 5 });
    expect(outline(split).slice(3, 6)).toEqual([
      ['class', 'Point', 10, 10],
      ['method', 'Point.new', 11, 13],
      ['method', 'Point.norm', 15, 18],
    ]);
    expect(split[4]!.content.startsWith('impl Point {\n    pub fn new')).toBe(true);
  });

  it('chunks a Java class into fields, constructor and annotated methods', async () => {
    const chunks = await chunkFile('src/UserRepository.java', JAVA, 'java', { minLines: 0, maxLines: 8 });
    expect(outline(chunks)).toEqual([
      ['module', null, 1, 3],
      ['class', 'UserRepository', 5, 7],
      ['method', 'UserRepository.UserRepository', 9, 11],
      ['method', 'UserRepository.find', 13, 17],
    ]);
    expect(chunks[3]!.content.split('\n')[0]).toBe('public class UserRepository extends Repository {');
  });

  it('chunks C and C++ functions, structs, classes and namespaces', async () => {
    expect(outline(await chunkFile('src/add.c', C, 'c', exact))).toEqual([
      ['module', null, 1, 1],
      ['type', 'point', 3, 6],
      ['function', 'add', 8, 11],
      ['function', 'main', 13, 16],
    ]);
    const cpp = await chunkFile('src/shape.cpp', CPP, 'cpp', { minLines: 0, maxLines: 6 });
    expect(outline(cpp)).toEqual([
      ['module', null, 1, 1],
      ['module', 'geo', 3, 3],
      ['class', 'geo.Shape', 5, 9],
      ['function', 'geo.scale', 11, 13],
      ['module', 'geo', 15, 15],
    ]);
    expect(cpp[3]!.content.startsWith('namespace geo {\ndouble scale(')).toBe(true);
  });

  it('chunks Ruby classes and methods', async () => {
    expect(outline(await chunkFile('lib/store.rb', RUBY, 'ruby', exact))).toEqual([
      ['module', null, 1, 1],
      ['class', 'UserStore', 3, 12],
      ['function', 'helper', 14, 16],
    ]);
    const split = await chunkFile('lib/store.rb', RUBY, 'ruby', { minLines: 0, maxLines: 5 });
    expect(outline(split).slice(1, 4)).toEqual([
      ['class', 'UserStore', 3, 4],
      ['method', 'UserStore.initialize', 5, 7],
      ['method', 'UserStore.load', 9, 12],
    ]);
  });

  it('splits a long function into overlapping windows that keep its name and signature', async () => {
    const body = Array.from({ length: 30 }, (_, i) => `  total += ${i};`);
    const source = ['export function sum(): number {', '  let total = 0;', ...body, '  return total;', '}', ''].join('\n');
    const chunks = await chunkFile('sum.ts', source, 'typescript', { maxLines: 15, overlapLines: 3 });
    expect(outline(chunks)).toEqual([
      ['function', 'sum', 1, 15],
      ['function', 'sum', 13, 27],
      ['function', 'sum', 25, 34],
    ]);
    expect(chunks[1]!.content.split('\n')[0]).toBe('export function sum(): number {');
    expect(chunks[1]!.content.split('\n')[1]).toBe('  total += 10;');
    expectCovered(source, chunks);
  });

  it('merges tiny neighbours up to the line limit, joining their names', async () => {
    const source = [
      "import { a } from './a.js';",
      '',
      'export const ONE = 1;',
      'export const TWO = 2;',
      '',
      'export function double(x: number): number {',
      '  return x * 2;',
      '}',
      '',
      'export function triple(x: number): number {',
      '  return x * 3;',
      '}',
      '',
    ].join('\n');
    const chunks = await chunkFile('small.ts', source, 'typescript');
    expect(outline(chunks)).toEqual([['function', 'double, triple', 1, 12]]);
    const capped = await chunkFile('small.ts', source, 'typescript', { maxLines: 8 });
    expect(outline(capped)).toEqual([['function', 'double', 1, 8], ['function', 'triple', 10, 12]]);
  });

  it('never loses a line of real-world-shaped code, whatever the limits', async () => {
    const fixtures: [string, string][] = [
      ['a.ts', TYPESCRIPT], ['a.js', JAVASCRIPT], ['a.tsx', TSX], ['a.py', PYTHON], ['a.go', GO],
      ['a.rs', RUST], ['A.java', JAVA], ['a.c', C], ['a.cpp', CPP], ['a.rb', RUBY],
    ];
    for (const [path, content] of fixtures) {
      for (const options of [{}, exact, { maxLines: 4, overlapLines: 1, minLines: 2 }, { maxChars: 120 }]) {
        const chunks = await chunkFile(path, content, null, options);
        expectCovered(content, chunks);
        expect(chunks.every((c) => c.content.length <= (options.maxChars ?? 6000))).toBe(true);
      }
    }
  });

  it('falls back to windows for broken code and never throws', async () => {
    const broken = 'export class {{{ function ( \n'.repeat(5);
    const chunks = await chunkFile('broken.ts', broken, 'typescript');
    expectCovered(broken, chunks);
    await expect(chunkFile('empty.ts', '', 'typescript')).resolves.toEqual([]);
    await expect(chunkFile('blank.py', '\n\n   \n', 'python')).resolves.toEqual([]);
  });
});

describe('chunkFile without a grammar', () => {
  it('chunks Markdown by heading, splitting big sections', async () => {
    const markdown = [
      'Intro line.',
      '',
      '# Project',
      '',
      '## Installation',
      '',
      'Run `npm install`.',
      '',
      '```sh',
      '# not a heading',
      '```',
      '',
      'Usage',
      '-----',
      '',
      ...Array.from({ length: 12 }, (_, i) => `Step ${i + 1}.`),
    ].join('\n');
    const chunks = await chunkFile('README.md', markdown, null, { maxLines: 10, overlapLines: 2 });
    expect(outline(chunks)).toEqual([
      ['section', null, 1, 1],
      ['section', '## Installation', 3, 11],
      ['section', '## Usage', 13, 22],
      ['section', '## Usage', 21, 27],
    ]);
    expect(chunks[3]!.content.split('\n').slice(0, 2)).toEqual(['## Usage', 'Step 6.']);
    expect(chunks[1]!.content.startsWith('# Project\n\n## Installation')).toBe(true);
    expectCovered(markdown, chunks);
  });

  it('chunks unknown languages and plain text in overlapping windows', async () => {
    const text = Array.from({ length: 25 }, (_, i) => `line ${i + 1}`).join('\n');
    const chunks = await chunkFile('notes.cobol', text, 'cobol', { maxLines: 10, overlapLines: 2 });
    expect(outline(chunks)).toEqual([
      ['window', null, 1, 10],
      ['window', null, 9, 18],
      ['window', null, 17, 25],
    ]);
    expect((await chunkFile('LICENSE', 'MIT\n'))[0]).toMatchObject({ language: 'text', kind: 'window', content: 'MIT' });
  });
});

describe('detectLanguage', () => {
  it('knows languages by extension and by file name', () => {
    expect(detectLanguage('src/a.ts')).toBe('typescript');
    expect(detectLanguage('src/a.d.ts')).toBe('typescript');
    expect(detectLanguage('web/App.tsx')).toBe('tsx');
    expect(detectLanguage('x/y.PY')).toBe('python');
    expect(detectLanguage('lib/a.hpp')).toBe('cpp');
    expect(detectLanguage('Dockerfile')).toBe('dockerfile');
    expect(detectLanguage('docs/guide.md')).toBe('markdown');
    expect(detectLanguage('notes.txt')).toBe('text');
    expect(detectLanguage('LICENSE')).toBe('text');
    expect(detectLanguage('logo.png')).toBeNull();
    expect(detectLanguage('data.unknownext')).toBeNull();
  });
});

describe('shouldSkipFile', () => {
  const text = 'export const a = 1;\n';
  it('keeps ordinary source', () => {
    expect(shouldSkipFile('src/a.ts', text, text.length)).toEqual({ skip: false });
    expect(shouldSkipFile('docs/long.md', 'x'.repeat(9000), 9000)).toEqual({ skip: false });
  });
  it('skips binary files by extension or NUL bytes', () => {
    expect(shouldSkipFile('img/logo.png', Buffer.from('PNG'), 3)).toEqual({ skip: true, reason: 'binary' });
    const bytes = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01]);
    expect(shouldSkipFile('bin/tool', bytes, bytes.length)).toEqual({ skip: true, reason: 'binary' });
  });
  it('skips minified code', () => {
    const minified = `var a=1;${'function f(){return 1}'.repeat(400)}\n`;
    expect(shouldSkipFile('public/app.js', minified, minified.length)).toEqual({ skip: true, reason: 'minified' });
    expect(shouldSkipFile('public/app.min.js', text, text.length)).toEqual({ skip: true, reason: 'generated' });
  });
  it('skips generated files by header or folder', () => {
    const header = '// Code generated by protoc-gen-go. DO NOT EDIT.\npackage pb\n';
    expect(shouldSkipFile('pb/api.go', header, header.length)).toEqual({ skip: true, reason: 'generated' });
    const marked = '/**\n * @generated\n */\nexport {};\n';
    expect(shouldSkipFile('src/schema.ts', marked, marked.length)).toEqual({ skip: true, reason: 'generated' });
    expect(shouldSkipFile('dist/index.js', text, text.length)).toEqual({ skip: true, reason: 'generated' });
    const mention = '// Ids are generated by the database; do not edit them by hand.\nexport {};\n';
    expect(shouldSkipFile('src/ids.ts', mention, mention.length)).toEqual({ skip: false });
  });
  it('skips vendored paths', () => {
    expect(shouldSkipFile('node_modules/x/index.js', text, text.length)).toEqual({ skip: true, reason: 'vendored' });
    expect(shouldSkipFile('go/vendor/github.com/x/y.go', text, text.length)).toEqual({ skip: true, reason: 'vendored' });
    expect(shouldSkipFile('src/vendors.ts', text, text.length)).toEqual({ skip: false });
  });
  it('skips lockfiles', () => {
    for (const name of ['package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'Cargo.lock', 'poetry.lock', 'sub/go.sum']) {
      expect(shouldSkipFile(name, '{}', 2)).toEqual({ skip: true, reason: 'lockfile' });
    }
  });
  it('skips files over the size limit', () => {
    expect(MAX_INDEXED_FILE_BYTES).toBe(1024 * 1024);
    expect(shouldSkipFile('src/big.ts', text, MAX_INDEXED_FILE_BYTES + 1)).toEqual({ skip: true, reason: 'too_large' });
  });
});
