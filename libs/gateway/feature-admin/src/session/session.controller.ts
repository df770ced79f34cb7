import { Get } from '@nestjs/common';
import {
  type AdminPrincipal,
  CurrentAdmin,
  RequireAdmin,
} from '@marquee/gateway/feature-auth';
import { ApiRoute } from '@marquee/gateway/util-http';
import { AdminController } from '../http/admin-controller';

/** Who the caller is: the dashboard shows only what the token's scopes allow, and says so. */
@AdminController('session')
export class SessionController {
  @Get('me')
  @RequireAdmin('admin:read', 'admin:write', 'billing')
  @ApiRoute({
    summary: 'The calling admin token: its actor and scopes',
    description:
      '`bootstrap` is true for MARQUEE_ADMIN_TOKEN (every scope, and admin-token management). Any token with at least one scope may call it.',
  })
  me(@CurrentAdmin() admin: AdminPrincipal) {
    return {
      object: 'admin_session' as const,
      actor: admin.actor,
      bootstrap: admin.bootstrap,
      scopes: [...admin.scopes].sort(),
    };
  }
}
