// Lint: a small rule set for what the compiler lets through: floating or misused promises, unused code,
// and import cycles, type-only ones included. Formatting is Prettier's job (`npm run format`).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/**
 * import-x's `no-cycle` skips `import type` edges, both in the file it lints and in the files it follows,
 * and has no option to keep them. A type-only cycle still ties two files together (neither reads without the
 * other, declarations and docs follow it), so this parser marks every `import`/`export ... from` as a value
 * edge. It changes nothing else: scopes and type information come from typescript-eslint's own parse.
 */
const parserSeeingTypeEdges = {
  meta: { name: 'typescript-eslint-parser-with-type-edges' },
  parseForESLint(code, options) {
    const result = tseslint.parser.parseForESLint(code, options);
    for (const node of result.ast.body) {
      if (node.type === 'ImportDeclaration') {
        node.importKind = 'value';
        for (const specifier of node.specifiers) if ('importKind' in specifier) specifier.importKind = 'value';
      } else if ((node.type === 'ExportNamedDeclaration' || node.type === 'ExportAllDeclaration') && node.source) {
        node.exportKind = 'value';
        for (const specifier of node.specifiers ?? []) specifier.exportKind = 'value';
      }
    }
    return result;
  },
};

export default tseslint.config(
  // examples/ are apps of their own, checked by their own compiler settings in .ci/consumer.
  { ignores: ['dist/', 'coverage/', 'docs/', 'data/', 'examples/'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.base],
    languageOptions: {
      parser: parserSeeingTypeEdges,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      // Relative imports name the emitted `.js`; the sources are `.ts`.
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js'], extensionAlias: { '.js': ['.ts', '.js'] } })],
    },
    rules: {
      'no-undef': 'off', // TypeScript checks names, including type-only globals this rule does not know
      'no-redeclare': 'off', // an interface and a Symbol of the same name are one injection token by design
      'no-unused-vars': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      'import-x/no-cycle': 'error',
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  { files: ['**/*.js'], extends: [js.configs.recommended], languageOptions: { globals: { process: 'readonly', console: 'readonly' } } },
  {
    // The reference app's pages: plain browser scripts, and the SDK's global from its own bundle.
    files: ['public/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        ['window', 'document', 'fetch', 'location', 'FormData', 'URLSearchParams', 'AppExtensionsSDK'].map((name) => [name, 'readonly']),
      ),
    },
  },
  prettier,
);
