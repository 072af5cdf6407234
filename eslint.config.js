// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

// SQL lives in src/db/ only: everything else reaches storage through a db module or a port its
// consumer owns (docs/architecture.md). Keywords are matched in upper case, as Jetway writes SQL.
const SQL_OUTSIDE_DB = 'SQL runs only in src/db/: add a function to a db module (or to the port of the consumer)';
const sqlText = '/^\\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|ALTER|DROP|TRUNCATE|LOCK)\\s/';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.jetway/**', 'tmp/**', 'reports/**'] }, // tmp/: Stryker's sandboxes
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/db/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.property.name='query']", message: SQL_OUTSIDE_DB },
        { selector: `Literal[value=${sqlText}]`, message: SQL_OUTSIDE_DB },
        { selector: `TemplateElement[value.raw=${sqlText}]`, message: SQL_OUTSIDE_DB },
      ],
    },
  },
  {
    files: ['bin/**/*.js', 'eslint.config.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
);
