import baseConfig from '../../../eslint.config.mjs';

export default [
  ...baseConfig,
  {
    // The engine knows nothing of the app around it: queues, transports and storage call it.
    files: ['**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@nestjs/*',
                'bullmq',
                '@grpc/*',
                '@prisma/*',
                'ioredis',
                'pg',
              ],
              message:
                'worker/inference is an engine lib: no Nest, BullMQ, gRPC, Prisma or Redis.',
            },
          ],
        },
      ],
    },
  },
];
