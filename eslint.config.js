// Flat config: the recommended TypeScript rules, without type information so
// that lint stays fast; `tsc --strict` does the type checking.
import tseslint from 'typescript-eslint';

// Dependencies point one way (docs/layout.md): contract/ imports neither side;
// the operator never imports the data path and the data path never imports the
// operator; only stitcher/kube/ (and the operator, and kube-common/) talk to
// Kubernetes; the stitcher's lower layers (format, packet, flow, tls, export,
// store) never import the layers that wire them together.
const noStitcher = {
  group: ['**/stitcher/**'],
  message: 'The operator never imports the data path; what crosses between them lives in contract/.',
};
const noOperator = {
  group: ['**/operator/**'],
  message: 'The data path never imports the operator; what crosses between them lives in contract/.',
};
const noKubeClient = {
  group: ['@kubernetes/*'],
  message: 'Only stitcher/kube/ talks to Kubernetes; pass what it returns in as plain data or an interface.',
};
const noWiringLayers = {
  group: ['**/ingest/**', '**/graph/**', '**/checkpoint/**', '**/shard/**', '**/kube/**', '**/run/**', '**/observe/**', '**/cli/**'],
  message: 'format/, packet/, flow/, tls/, export/ and store/ are the lower layers: they never import the folders that wire them together.',
};
const restrict = (...patterns) => ({ '@typescript-eslint/no-restricted-imports': ['error', { patterns }] });

// A file takes the rule of the last block that matches it, so each block lists every group it needs.
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
    rules: restrict({
      group: ['**/stitcher/**', '**/operator/**', '**/kube-common/**', '@kubernetes/*'],
      message: 'contract/ is what both sides share: it imports neither side and no Kubernetes client.',
    }),
  },
  { files: ['operator/**/*.ts'], rules: restrict(noStitcher) },
  {
    files: ['kube-common/**/*.ts'],
    rules: restrict({
      group: ['**/stitcher/**', '**/operator/**'],
      message: 'kube-common/ is shared by the operator and stitcher/kube/: it imports neither.',
    }),
  },
  { files: ['stitcher/**/*.ts'], rules: restrict(noOperator, noKubeClient) },
  { files: ['stitcher/kube/**/*.ts'], rules: restrict(noOperator) },
  {
    files: ['stitcher/{format,packet,flow,tls,export,store}/**/*.ts'],
    rules: restrict(noOperator, noKubeClient, noWiringLayers),
  },
);
