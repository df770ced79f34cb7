import type { AdminAccess } from '@marquee/gateway/feature-auth';

/** What a path's `:id` names, so tests can put another tenant's object there. */
export type IdKind =
  | 'tenant'
  | 'key'
  | 'plan'
  | 'model'
  | 'invoice'
  | 'adminToken';

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface AdminRoute {
  kind: 'admin';
  method: Method;
  url: string;
  /** The scopes the route accepts (any one of them). */
  access: AdminAccess[];
  id?: IdKind;
  /** A body that passes validation, so an unknown id is what the route answers about. */
  body?: Record<string, unknown>;
  /** The audit-log action a successful call appends (every write has one). */
  audit?: string;
}

export interface TenantRoute {
  kind: 'tenant';
  method: Method;
  url: string;
  /** `:model` in the path, or `model` in the body: a model name. */
  model?: 'path' | 'body';
  /** The task of the model the route serves (default text generation). */
  task?: 'embedding';
  body?: Record<string, unknown>;
}

export interface PublicRoute {
  kind: 'public';
  method: Method;
  url: string;
}

export type RouteCase = AdminRoute | TenantRoute | PublicRoute;

const lastMonth = () => {
  const d = new Date();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() - 1);
  return d.toISOString().slice(0, 7);
};

/**
 * Every route the gateway serves. The BOLA matrix runs over this table, and a test fails when the
 * app registers a route missing here: add a row for a new route (with its auth, id kind and
 * scopes) and the matrix covers it.
 */
export const ROUTES: RouteCase[] = [
  // OpenAI-compatible API (tenant keys)
  {
    kind: 'tenant',
    method: 'POST',
    url: '/v1/completions',
    model: 'body',
    body: { prompt: 'hi', max_tokens: 1 },
  },
  {
    kind: 'tenant',
    method: 'POST',
    url: '/v1/chat/completions',
    model: 'body',
    body: { messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 },
  },
  {
    kind: 'tenant',
    method: 'POST',
    url: '/v1/responses',
    model: 'body',
    body: { input: 'hi', max_output_tokens: 1 },
  },
  { kind: 'tenant', method: 'GET', url: '/v1/responses/:id' },
  { kind: 'tenant', method: 'DELETE', url: '/v1/responses/:id' },
  {
    kind: 'tenant',
    method: 'POST',
    url: '/v1/embeddings',
    model: 'body',
    task: 'embedding',
    body: { input: 'hi' },
  },
  {
    kind: 'tenant',
    method: 'POST',
    url: '/v1/cost-preview',
    model: 'body',
    body: { prompt: 'hi', max_tokens: 1 },
  },
  { kind: 'tenant', method: 'GET', url: '/v1/models' },
  { kind: 'tenant', method: 'GET', url: '/v1/models/:model', model: 'path' },
  { kind: 'tenant', method: 'GET', url: '/v1/usage' },

  // Admin API
  {
    kind: 'admin',
    method: 'POST',
    url: '/admin/v1/tenants',
    access: ['admin:write'],
    body: { name: 't' },
    audit: 'tenant.create',
  },
  {
    kind: 'admin',
    method: 'GET',
    url: '/admin/v1/tenants',
    access: ['admin:read'],
  },
  {
    kind: 'admin',
    method: 'GET',
    url: '/admin/v1/tenants/:id',
    access: ['admin:read'],
    id: 'tenant',
  },
  {
    kind: 'admin',
    method: 'PATCH',
    url: '/admin/v1/tenants/:id',
    access: ['admin:write'],
    id: 'tenant',
    body: { name: 'renamed' },
    audit: 'tenant.update',
  },
  {
    kind: 'admin',
    method: 'POST',
    url: '/admin/v1/tenants/:id/suspend',
    access: ['admin:write'],
    id: 'tenant',
    audit: 'tenant.suspend',
  },
  {
    kind: 'admin',
    method: 'POST',
    url: '/admin/v1/tenants/:id/reactivate',
    access: ['admin:write'],
    id: 'tenant',
    audit: 'tenant.reactivate',
  },
  {
    kind: 'admin',
    method: 'POST',
    url: '/admin/v1/tenants/:id/keys',
    access: ['admin:write'],
    id: 'tenant',
    body: { name: 'k' },
    audit: 'api_key.create',
  },
  {
    kind: 'admin',
    method: 'GET',
    url: '/admin/v1/tenants/:id/keys',
    access: ['admin:read'],
    id: 'tenant',
  },
  {
    kind: 'admin',
    method: 'GET',
    url: '/admin/v1/tenants/:id/key-activity',
    access: ['admin:read'],
    id: 'tenant',
  },
  {
    kind: 'admin',
    method: 'GET',
    url: '/admin/v1/keys/:id',
    access: ['admin:read'],
    id: 'key',
  },
  {
    kind: 'admin',
    method: 'DELETE',
    url: '/admin/v1/keys/:id',
    access: ['admin:write'],
    id: 'key',
    audit: 'api_key.revoke',
  },
  {
    kind: 'admin',
    method: 'POST',
    url: '/admin/v1/keys/:id/rotate',
    access: ['admin:write'],
    id: 'key',
    body: {},
    audit: 'api_key.rotate',
  },
  {
    kind: 'admin',
    method: 'POST',
    url: '/admin/v1/plans',
    access: ['admin:write'],
    body: {
      name: 'p',
      requests_per_minute: 1,
      tokens_per_minute: 1,
      max_concurrent_requests: 1,
    },
    audit: 'plan.create',
  },
  {
    kind: 'admin',
    method: 'GET',
    url: '/admin/v1/plans',
    access: ['admin:read'],
  },
  {
    kind: 'admin',
    method: 'GET',
    url: '/admin/v1/plans/:id',
    access: ['admin:read'],
    id: 'plan',
  },
  {
    kind: 'admin',
    method: 'PATCH',
    url: '/admin/v1/plans/:id',
    access: ['admin:write'],
    id: 'plan',
    body: { tokens_per_minute: 9 },
    audit: 'plan.update',
  },
  {
    kind: 'admin',
    method: 'DELETE',
    url: '/admin/v1/plans/:id',
    access: ['admin:write'],
    id: 'plan',
    audit: 'plan.delete',
  },
  {
    kind: 'admin',
    method: 'POST',
    url: '/admin/v1/models',
    access: ['admin:write'],
    body: { name: 'm', artifact_path: '/m', context_length: 8 },
    audit: 'model.create',
  },
  {
    kind: 'admin',
    method: 'GET',
    url: '/admin/v1/models',
    access: ['admin:read'],
  },
  {
    kind: 'admin',
    method: 'GET',
    url: '/admin/v1/models/:id',
    access: ['admin:read'],
    id: 'model',
  },
  {
    kind: 'admin',
    method: 'PATCH',
    url: '/admin/v1/models/:id',
    access: ['admin:write'],
    id: 'model',
    body: { context_length: 9 },
    audit: 'model.update',
  },
  {
    kind: 'admin',
    method: 'POST',
    url: '/admin/v1/models/:id/load',
    access: ['admin:write'],
    id: 'model',
    body: {},
    audit: 'model.load',
  },
  {
    kind: 'admin',
    method: 'POST',
    url: '/admin/v1/models/:id/unload',
    access: ['admin:write'],
    id: 'model',
    body: {},
    audit: 'model.unload',
  },
  {
    kind: 'admin',
    method: 'GET',
    url: '/admin/v1/workers',
    access: ['admin:read'],
  },
  {
    kind: 'admin',
    method: 'POST',
    url: '/admin/v1/tenants/:id/credits',
    access: ['billing'],
    id: 'tenant',
    body: { amount_micros: 1 },
    audit: 'credit.topup',
  },
  {
    kind: 'admin',
    method: 'GET',
    url: '/admin/v1/tenants/:id/credits',
    access: ['billing'],
    id: 'tenant',
  },
  {
    kind: 'admin',
    method: 'GET',
    url: '/admin/v1/usage',
    access: ['billing', 'admin:read'],
  },
  {
    kind: 'admin',
    method: 'POST',
    url: '/admin/v1/tenants/:id/invoices',
    access: ['billing'],
    id: 'tenant',
    body: { month: lastMonth() },
    audit: 'invoice.generate',
  },
  {
    kind: 'admin',
    method: 'GET',
    url: '/admin/v1/tenants/:id/invoices',
    access: ['billing'],
    id: 'tenant',
  },
  {
    kind: 'admin',
    method: 'GET',
    url: '/admin/v1/invoices/:id',
    access: ['billing'],
    id: 'invoice',
  },
  {
    kind: 'admin',
    method: 'GET',
    url: '/admin/v1/invoices/:id/csv',
    access: ['billing'],
    id: 'invoice',
  },
  {
    kind: 'admin',
    method: 'GET',
    url: '/admin/v1/audit-log',
    access: ['admin:read'],
  },
  {
    kind: 'admin',
    method: 'GET',
    url: '/admin/v1/me',
    access: ['admin:read', 'admin:write', 'billing'],
  },
  {
    kind: 'admin',
    method: 'GET',
    url: '/admin/v1/stats/overview',
    access: ['billing', 'admin:read'],
  },
  {
    kind: 'admin',
    method: 'GET',
    url: '/admin/v1/queues',
    access: ['admin:read'],
  },
  {
    kind: 'admin',
    method: 'POST',
    url: '/admin/v1/admin-tokens',
    access: ['bootstrap'],
    body: { name: 'a', scopes: ['billing'] },
    audit: 'admin_token.create',
  },
  {
    kind: 'admin',
    method: 'GET',
    url: '/admin/v1/admin-tokens',
    access: ['bootstrap'],
  },
  {
    kind: 'admin',
    method: 'DELETE',
    url: '/admin/v1/admin-tokens/:id',
    access: ['bootstrap'],
    id: 'adminToken',
    audit: 'admin_token.revoke',
  },

  // Unauthenticated: probes, API docs (Swagger UI's own routes are matched by prefix). Metrics
  // are not here: they are served on METRICS_PORT, never on the API port.
  { kind: 'public', method: 'GET', url: '/health/live' },
  { kind: 'public', method: 'GET', url: '/health/ready' },
  { kind: 'public', method: 'GET', url: '/docs' },
  { kind: 'public', method: 'GET', url: '/docs/json' },
];

/** Swagger UI's assets and init script live under /docs; they carry no data. */
export const isDocsAsset = (url: string) =>
  url === '/docs' || url.startsWith('/docs/');

export const adminRoutes = ROUTES.filter(
  (r): r is AdminRoute => r.kind === 'admin',
);
export const tenantRoutes = ROUTES.filter(
  (r): r is TenantRoute => r.kind === 'tenant',
);
