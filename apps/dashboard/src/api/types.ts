/** Wire shapes of the admin API (`/admin/v1`). Money and token sums are decimal strings. */

export type Scope = 'admin:read' | 'admin:write' | 'billing';

export interface ListOf<T> {
  object: 'list';
  data: T[];
}

export interface AdminSession {
  actor: string;
  bootstrap: boolean;
  scopes: Scope[];
}

export interface Tenant {
  id: string;
  name: string;
  status: 'active' | 'suspended';
  plan_id: string | null;
  created_at: string;
}

export interface Plan {
  id: string;
  name: string;
  requests_per_minute: number;
  tokens_per_minute: number;
  monthly_budget_micros: string | null;
}

export interface ApiKey {
  id: string;
  tenant_id: string;
  name: string;
  prefix: string;
  allowed_models: string[];
  expires_at: string | null;
  revoked: boolean;
  revoked_at: string | null;
  last_used_at: string | null;
  previous_secret_expires_at: string | null;
  created_at: string;
}

/** Creation and rotation answers: the secret, shown this once. */
export type ApiKeyWithSecret = ApiKey & { key: string };

export interface CreditTransaction {
  id: string;
  kind: 'topup' | 'charge' | 'refund';
  amount_micros: string;
  request_id: string | null;
  note: string | null;
  created_at: string;
}

export interface Credits extends ListOf<CreditTransaction> {
  balance_micros: string;
}

export interface Invoice {
  id: string;
  tenant_id: string;
  month: string;
  total_micros: string;
  created_at: string;
}

export interface UsageRow {
  day?: string;
  model?: string;
  tenant_id?: string;
  api_key_id?: string;
  requests: number;
  prompt_tokens: string;
  completion_tokens: string;
  cost_micros: string;
}

export interface UsageReport {
  start: string;
  end: string;
  totals: Omit<UsageRow, 'day' | 'model' | 'tenant_id' | 'api_key_id'>;
  data: UsageRow[];
}

export interface Model {
  id: string;
  name: string;
  task: 'text_generation' | 'embedding';
  version: string;
  context_length: number;
  owned_by: string;
  tenant_id: string | null;
  input_price_per_mtok_micros: string;
  output_price_per_mtok_micros: string;
}

export interface Worker {
  id: string;
  models: string[];
  execution_provider: string;
  started_at: string;
  model_errors: Record<string, string>;
}

/** How busy a worker was at its last heartbeat (queues page). */
export interface WorkerLoad {
  running: number;
  slots: number;
  rss_bytes: number;
  gpu_memory_used_bytes: number | null;
  gpu_memory_total_bytes: number | null;
}

export interface Overview {
  generated_at: string;
  series: {
    minute: string;
    requests: number;
    prompt_tokens: string;
    completion_tokens: string;
    unfinished: number;
  }[];
  spend: { today_micros: string; month_micros: string };
  top_tenants: {
    tenant_id: string;
    name: string;
    requests: number;
    tokens: string;
    cost_micros: string;
  }[];
  latency: {
    since: string;
    window_seconds: number;
    requests: number;
    server_errors: number;
    refused: number;
    p95_seconds: number | null;
    ttft_p95_seconds: number | null;
    queue_wait_p95_seconds: number | null;
  };
  workers: { live: number; models: string[]; with_errors: number } | null;
}

export interface Queues {
  generated_at: string;
  queue_wait: { since: string; p95_seconds: number | null };
  queues: {
    model: string;
    tenant_id: string;
    tenant_name: string | null;
    waiting: number;
    running: number;
    delayed: number;
    failed: number;
    oldest_wait_seconds: number | null;
    recent_failures: { id: string; reason: string; failed_at: string | null }[];
  }[];
  workers: (Worker & {
    last_heartbeat_at: string | null;
    load: WorkerLoad | null;
  })[];
}

export interface AuditEntry {
  id: string;
  actor: string;
  action: string;
  target_type: string;
  target_id: string | null;
  details: unknown;
  created_at: string;
}

export interface KeyActivity {
  api_key_id: string;
  requests: number;
  last_request_at: string;
}
