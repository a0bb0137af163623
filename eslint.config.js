import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist', 'node_modules', 'test-results', 'playwright-report'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['src/**/*.{ts,tsx}'],
    languageOptions: { globals: globals.browser },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      // The main thread never runs tfjs: it talks to the engine worker through the bridge.
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'recharts',
              importNames: ['ReferenceLine', 'ReferenceDot'],
              message:
                'Use StableReferenceLine / StableReferenceDot (src/charts/stableReference.ts): recharts re-registers these on every render of their chart.',
            },
          ],
          patterns: [
            {
              group: ['@tensorflow/*'],
              message: 'tfjs runs in workers/ only.',
              allowTypeImports: true,
            },
            {
              group: [
                '**/workers/*',
                '!**/workers/protocol',
                '!**/workers/options',
                '!**/workers/sequence',
                '**/workers/sequence/*',
                '!**/workers/sequence/seqProtocol',
              ],
              message:
                'The UI may import workers/protocol, workers/options and workers/sequence/seqProtocol only (types and tfjs-free helpers); method specs come through src/methods/catalog.ts.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    files: ['workers/**/*.ts'],
    languageOptions: { globals: globals.worker },
    rules: {
      // Workers never import React or anything from the UI.
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['react', 'react-dom', 'react/*', 'recharts', 'zustand'],
              message: 'Workers never import UI code.',
            },
            {
              group: ['**/src/*', '../src/*', '../../src/*'],
              message: 'Workers never import from src/.',
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'CallExpression[callee.property.name=/^(dataSync|arraySync|bufferSync)$/]',
          message: 'Synchronous tensor reads return wrong data on WebGPU: use await t.data().',
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'scripts/**/*.{js,mjs,ts}', 'cli/**/*.ts', '*.config.{js,ts}'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
);
