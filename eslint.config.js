import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'test-results/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/require-await': 'off',
      // `return send(res, …)` ends a handler branch; the void-return style rule only adds noise there.
      '@typescript-eslint/no-confusing-void-expression': 'off',
      // Layering (docs/style): features meet only in the store; only cli/ wires concrete pieces.
      'no-restricted-imports': 'off',
    },
  },
  {
    files: ['src/store/**', 'src/callback/**', 'src/ringcentral/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/receiver/**', '**/client/**', '**/inspector/**', '**/cli/**', '**/config.js'],
              message: 'store/, callback/ and ringcentral/ import only types.ts, errors.ts and their drivers',
            },
          ],
        },
      ],
    },
  },
  {
    files: [
      'src/receiver/**',
      'src/client/**',
      'src/inspector/**',
      'src/handlers/**',
      'src/reconcile/**',
      'src/subscriptions/**',
    ],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/cli/**', '**/config.js', '**/store/sqlite/**', '**/store/postgres/**'],
              message: 'features depend on the Store interface, never on config or a concrete store',
            },
          ],
        },
      ],
    },
  },
  {
    // vitest's asymmetric matchers (expect.any, expect.stringMatching) are typed `any`.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off', '@typescript-eslint/no-unsafe-argument': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    // Plain Node scripts (bench, config): no-undef knows no Node globals; a typo fails at the first run.
    rules: { 'no-undef': 'off' },
  },
);
