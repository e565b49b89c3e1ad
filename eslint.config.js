// Flat config: the recommended TypeScript rules, without type information so
// that lint stays fast; `tsc --strict` does the type checking.
import tseslint from 'typescript-eslint';

// Dependencies point one way: contract/ imports neither side; the operator never
// imports the data path; the data path never imports the operator (docs/contract.md).
const restrict = (patterns, message) => ({
  '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: patterns, message }] }],
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'charts/**', '.build/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['contract/**/*.ts'],
    rules: restrict(['**/stitcher/**', '**/operator/**', '@kubernetes/*'], 'contract/ is what both sides share: it imports neither side and no Kubernetes client.'),
  },
  {
    files: ['operator/**/*.ts'],
    rules: restrict(['**/stitcher/**'], 'The operator never imports the data path; what crosses between them lives in contract/.'),
  },
  {
    files: ['stitcher/**/*.ts'],
    rules: restrict(['**/operator/**'], 'The data path never imports the operator; what crosses between them lives in contract/.'),
  },
);
