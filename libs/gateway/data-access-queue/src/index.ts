export * from './inference-queue.service';
export * from './worker-presence.service';
export * from './data-access-queue.module';
export * from './redis.provider';
export * from './model-control.service';
export type { RoutedJob, TenantQueues, WithdrawOutcome } from './tenant-queues';
