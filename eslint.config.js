// Lint rules: typescript-eslint's recommended set, plus the layer boundaries of DESIGN.md:
// the domain never imports Fastify, clients import no service code, platform imports no service.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'web/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/orchestrator/scheduler/**', 'src/orchestrator/worktrees/**', 'src/orchestrator/executors/**', 'src/orchestrator/agents/**', 'src/memory/*/**'],
    ignores: ['src/memory/api/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['fastify', '@fastify/*'], message: 'The domain layer never imports the web framework.' }] }],
    },
  },
  {
    files: ['src/clients/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/orchestrator/**', '**/memory/**', '**/platform/**'], message: 'Clients import no service code.' }] }],
    },
  },
  {
    files: ['web/src/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '(^|/)src/(?!clients/generated/)', message: 'The dashboard speaks only the public APIs: it imports the generated wire types, no service code.' }] }],
    },
  },
  {
    files: ['src/platform/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/orchestrator/**', '**/memory/**'], message: 'The platform knows no service.' }] }],
    },
  },
  {
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['bin/**', '*.js'],
    languageOptions: { globals: { process: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', console: 'readonly' } },
  },
);
