import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

/**
 * The caller behind a tenant API key and its plan: what the key lookup returns, and what the
 * key guard sets on the request.
 */
export interface Principal {
  tenantId: string;
  apiKeyId: string;
  /** Model names the key may call; empty: any model its tenant may use. */
  allowedModels: string[];
  /** The tenant's plan limits. */
  requestsPerMinute: number;
  tokensPerMinute: number;
  /** The key's own limits, when it has lower ones than its plan. */
  keyRequestsPerMinute?: number;
  keyTokensPerMinute?: number;
  maxConcurrentRequests: number;
  /** 0 is the most urgent. */
  priorityTier: number;
  fairnessWeight: number;
  /**
   * Until when this principal may be reused as looked up: the key's expiry, or the end of its
   * rotation's grace period, whichever comes first; absent or null: no such time.
   */
  validUntil?: Date | null;
}

/** Request fields Marquee adds. */
export interface MarqueeRequestState {
  principal?: Principal;
  requestId?: string;
}

/** Injects the authenticated {@link Principal} into a handler. */
export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Principal => {
    const request = ctx.switchToHttp().getRequest<MarqueeRequestState>();
    if (!request.principal)
      throw new Error(
        'CurrentPrincipal used on a route without the API key guard',
      );
    return request.principal;
  },
);
