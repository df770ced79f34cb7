export * from './worker-link';
export * from './failure-codes';
export type { Received, Sendable } from './proto-loader-shapes';
/** The types generated from worker_link.proto (`npm run proto:generate`). */
export * as wire from './generated/marquee/v1/worker_link';
export { FailureCode } from './generated/marquee/v1/worker_link';
