import { ApiError } from '@marquee/gateway/util-http';

/** The admin API's answer when Redis (queues, presence, model control) cannot be asked: 503. */
export const redisUnavailable = () =>
  ApiError.unavailable(
    'Redis is unavailable; try again shortly.',
    'queue_unavailable',
  );
