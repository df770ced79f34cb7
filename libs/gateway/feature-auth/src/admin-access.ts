import {
  createParamDecorator,
  type ExecutionContext,
  SetMetadata,
} from '@nestjs/common';

/** What an admin token may be allowed to do. */
export const ADMIN_SCOPES = ['admin:read', 'admin:write', 'billing'] as const;
export type AdminScope = (typeof ADMIN_SCOPES)[number];

/** A scope, or `bootstrap`: only MARQUEE_ADMIN_TOKEN itself (managing admin tokens). */
export type AdminAccess = AdminScope | 'bootstrap';

export const ADMIN_ACCESS_METADATA = 'marquee:admin-access';

/**
 * Declares what an admin route needs: any one of `access`. The admin guard refuses routes that
 * declare nothing, so a new route cannot be left open by accident.
 */
export const RequireAdmin = (...access: [AdminAccess, ...AdminAccess[]]) =>
  SetMetadata(ADMIN_ACCESS_METADATA, access);

/** Who is calling the admin API. */
export interface AdminPrincipal {
  /** The admin token's id, or `bootstrap` for MARQUEE_ADMIN_TOKEN. */
  actor: string;
  scopes: readonly AdminScope[];
  bootstrap: boolean;
}

export interface AdminRequestState {
  admin?: AdminPrincipal;
}

/** Injects the {@link AdminPrincipal} the admin guard authenticated. */
export const CurrentAdmin = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): AdminPrincipal => {
    const request = ctx.switchToHttp().getRequest<AdminRequestState>();
    if (!request.admin)
      throw new Error('CurrentAdmin used on a route without the admin guard');
    return request.admin;
  },
);
