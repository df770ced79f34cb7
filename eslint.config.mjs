import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/** Which kinds of project may depend on which (STYLE.md). */
const typeRules = {
  'type:app': [
    'type:feature',
    'type:data-access',
    'type:transport',
    'type:contracts',
    'type:util',
    'type:engine',
  ],
  'type:feature': [
    'type:feature',
    'type:data-access',
    'type:transport',
    'type:contracts',
    'type:util',
    'type:engine',
  ],
  'type:data-access': ['type:data-access', 'type:contracts', 'type:util'],
  'type:transport': ['type:contracts', 'type:util'],
  'type:engine': ['type:util'],
  'type:contracts': ['type:contracts', 'type:util'],
  'type:util': ['type:util'],
  'type:ui': ['type:ui', 'type:util'],
};

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  {
    ignores: [
      '**/dist',
      '**/out-tsc',
      '**/generated/**',
      'node_modules',
      'models',
      '.marquee',
      'tmp',
    ],
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: ['^.*/eslint(\\.base)?\\.config\\.[cm]?[jt]s$'],
          depConstraints: [
            {
              sourceTag: 'scope:gateway',
              onlyDependOnLibsWithTags: ['scope:gateway', 'scope:shared'],
            },
            {
              sourceTag: 'scope:worker',
              onlyDependOnLibsWithTags: ['scope:worker', 'scope:shared'],
            },
            {
              sourceTag: 'scope:dashboard',
              onlyDependOnLibsWithTags: ['scope:dashboard', 'scope:shared'],
            },
            {
              sourceTag: 'scope:shared',
              onlyDependOnLibsWithTags: ['scope:shared'],
            },
            ...Object.entries(typeRules).map(([sourceTag, allowed]) => ({
              sourceTag,
              onlyDependOnLibsWithTags: allowed,
            })),
            {
              sourceTag: 'type:engine',
              bannedExternalImports: [
                '@nestjs/*',
                'bullmq',
                '@grpc/*',
                '@prisma/*',
                'ioredis',
                'pg',
              ],
            },
          ],
        },
      ],
    },
  },
  {
    files: [
      'libs/**/*.ts',
      'apps/**/*.ts',
      'apps/dashboard/**/*.tsx',
      'tools/**/*.ts',
      'bench/**/*.ts',
    ],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports' },
      ],
    },
  },
];
