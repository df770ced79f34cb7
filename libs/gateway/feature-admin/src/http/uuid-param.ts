import { ParseUUIDPipe } from '@nestjs/common';
import { ApiError } from '@marquee/gateway/util-http';

/** Path ids: a malformed id names nothing, so it is a 404 like an unknown one (never a 500). */
export const idOf = (what: string) =>
  new ParseUUIDPipe({ exceptionFactory: () => ApiError.notFound(what) });
