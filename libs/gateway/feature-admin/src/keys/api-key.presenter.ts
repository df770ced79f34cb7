import type { PublicApiKey } from '@marquee/gateway/data-access-db';
import { iso } from '../http/present';

/** A key as admins see it: the display prefix, never the secret or its hash. */
export const presentApiKey = (k: PublicApiKey) => ({
  id: k.id,
  object: 'api_key' as const,
  tenant_id: k.tenantId,
  name: k.name,
  prefix: k.prefix,
  allowed_models: k.allowedModels,
  requests_per_minute: k.requestsPerMinute,
  tokens_per_minute: k.tokensPerMinute,
  expires_at: iso(k.expiresAt),
  revoked: k.revokedAt !== null,
  revoked_at: iso(k.revokedAt),
  last_used_at: iso(k.lastUsedAt),
  previous_secret_expires_at: iso(k.previousExpiresAt),
  created_at: iso(k.createdAt),
});
