import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'bench-results/**', '.brokers/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Packages see each other only through their public entry, so third-party adapters stay possible.
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@msg/*/src', '@msg/*/src/*', '@msg/*/dist/*', '../../packages/*', '../../../packages/*'], message: 'import a package through its public entry, e.g. @msg/core' }] },
      ],
    },
  },
  {
    files: ['**/*.cjs', 'scripts/**/*.{js,mjs}'],
    languageOptions: { globals: { require: 'readonly', module: 'writable', process: 'readonly', console: 'readonly' } },
  },
);
