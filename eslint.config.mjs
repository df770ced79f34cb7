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
  // Test-only helpers (fixtures, processes, databases, generated models) and the black-box
  // suites that use them. No production code may import `type:testing`.
  'type:testing': ['type:testing', 'type:contracts', 'type:util'],
  'type:e2e': [
    'type:feature',
    'type:data-access',
    'type:transport',
    'type:contracts',
    'type:util',
    'type:engine',
    'type:testing',
  ],
};

/** Test code inside production projects, which may also use the `type:testing` libs. */
const testFiles = [
  '**/*.spec.ts',
  '**/*.int-spec.ts',
  '**/*.e2e-spec.ts',
  '**/*.faults-spec.ts',
  '**/src/testing/**/*.ts',
];

/**
 * `@nx/enforce-module-boundaries` for production files, or (`forTests`) for test files.
 * `checkNestedExternalImports` applies a ban through the libs a project imports too: the
 * engine may not reach Nest, BullMQ, gRPC, Prisma, ioredis or pg by way of a util lib.
 */
function moduleBoundaries({ forTests }) {
  return [
    'error',
    {
      enforceBuildableLibDependency: true,
      checkNestedExternalImports: true,
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
          onlyDependOnLibsWithTags:
            forTests && !allowed.includes('type:testing')
              ? [...allowed, 'type:testing']
              : allowed,
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
  ];
}

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
      '@nx/enforce-module-boundaries': moduleBoundaries({ forTests: false }),
    },
  },
  {
    files: testFiles,
    rules: {
      '@nx/enforce-module-boundaries': moduleBoundaries({ forTests: true }),
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
