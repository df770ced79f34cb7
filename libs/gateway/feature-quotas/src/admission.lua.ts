/**
 * One atomic admission decision over every limit of a request, so concurrent requests on any
 * number of gateway replicas can never jointly overshoot a limit.
 *
 * Sliding 60 s windows (exact, not approximated): a sorted set of request ids scored by admission
 * time per scope, and for tokens a hash of each request's reserved tokens plus their running sum
 * (field `__sum`). Concurrency: a sorted set of in-flight request ids scored by lease expiry, so a
 * crashed gateway's entries age out. Budget: remaining micro-units of the month.
 *
 * KEYS: 1 key rpm, 2 key tpm set, 3 key tpm amounts, 4 key concurrency,
 *       5 tenant rpm, 6 tenant tpm set, 7 tenant tpm amounts, 8 tenant concurrency, 9 budget,
 *       10 budget reservations (request id -> reserved cost, until settled)
 * ARGV: 1 request id, 2 tokens to reserve, 3 cost to reserve (micros, integer string),
 *       4 key rpm limit, 5 key tpm limit, 6 concurrency limit, 7 lease ms,
 *       8 tenant rpm limit, 9 tenant tpm limit
 * Returns {admitted(1/0), reason, retry_after_ms, rpm_remaining, rpm_reset_ms, tpm_remaining,
 *          tpm_reset_ms}; reason is '' when admitted, 'budget_unloaded' when key 9 is missing.
 */
export const ADMIT_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = 60000
local id = ARGV[1]
local tokens = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local conc_limit = tonumber(ARGV[6])
local lease = tonumber(ARGV[7])

local function trim_tokens(set, amounts)
  local expired = redis.call('ZRANGEBYSCORE', set, '-inf', now - window)
  for _, member in ipairs(expired) do
    local amount = tonumber(redis.call('HGET', amounts, member) or '0')
    -- Not -amount: Lua writes -0 as "-0", which HINCRBY refuses (a request settled at 0 tokens).
    if amount ~= 0 then redis.call('HINCRBY', amounts, '__sum', 0 - amount) end
    redis.call('HDEL', amounts, member)
  end
  if #expired > 0 then redis.call('ZREMRANGEBYSCORE', set, '-inf', now - window) end
  return tonumber(redis.call('HGET', amounts, '__sum') or '0')
end

-- When will enough tokens leave the window for this request to fit?
local function tokens_retry(set, amounts, used, tpm_limit)
  local need = used + tokens - tpm_limit
  local entries = redis.call('ZRANGE', set, 0, -1, 'WITHSCORES')
  local freed = 0
  for i = 1, #entries, 2 do
    freed = freed + tonumber(redis.call('HGET', amounts, entries[i]) or '0')
    if freed >= need then return tonumber(entries[i + 1]) + window - now end
  end
  return window
end

local function oldest_reset(set)
  local first = redis.call('ZRANGE', set, 0, 0, 'WITHSCORES')
  if #first == 0 then return 0 end
  return math.max(0, tonumber(first[2]) + window - now)
end

local scopes = { {1, 2, 3, 4, tonumber(ARGV[4]), tonumber(ARGV[5])}, {5, 6, 7, 8, tonumber(ARGV[8]), tonumber(ARGV[9])} }
local rpm_remaining, rpm_reset, tpm_remaining, tpm_reset = math.huge, 0, math.huge, 0
for _, s in ipairs(scopes) do
  local rpm, tset, tamt, conc = KEYS[s[1]], KEYS[s[2]], KEYS[s[3]], KEYS[s[4]]
  local rpm_limit, tpm_limit = s[5], s[6]
  redis.call('ZREMRANGEBYSCORE', rpm, '-inf', now - window)
  local count = redis.call('ZCARD', rpm)
  local used = trim_tokens(tset, tamt)
  -- A refusal reports where both limits really stand (nothing of this request is counted).
  local function refuse(reason, retry, tpm_reset_ms)
    return {0, reason, retry,
      math.min(rpm_remaining, math.max(0, rpm_limit - count)),
      math.max(rpm_reset, oldest_reset(rpm)),
      math.min(tpm_remaining, math.max(0, tpm_limit - used)),
      math.max(tpm_reset, tpm_reset_ms or oldest_reset(tset))}
  end
  if count + 1 > rpm_limit then return refuse('requests', oldest_reset(rpm)) end
  if tokens > tpm_limit then return refuse('tokens_too_large', 0) end
  if used + tokens > tpm_limit then
    local wait = tokens_retry(tset, tamt, used, tpm_limit)
    return refuse('tokens', wait, wait)
  end
  redis.call('ZREMRANGEBYSCORE', conc, '-inf', now)
  if redis.call('ZCARD', conc) + 1 > conc_limit then
    return refuse('concurrency', 1000)
  end
  rpm_remaining = math.min(rpm_remaining, rpm_limit - count - 1)
  rpm_reset = math.max(rpm_reset, count == 0 and window or oldest_reset(rpm))
  tpm_remaining = math.min(tpm_remaining, tpm_limit - used - tokens)
  tpm_reset = math.max(tpm_reset, used == 0 and window or oldest_reset(tset))
end

local remaining = redis.call('GET', KEYS[9])
if not remaining then return {0, 'budget_unloaded', 0, 0, 0, 0, 0} end
if tonumber(remaining) < cost then return {0, 'budget', 0, 0, 0, 0, 0} end
redis.call('DECRBY', KEYS[9], ARGV[3])
-- Kept beside the counter until settled: a counter reloaded from PostgreSQL meanwhile (which
-- knows nothing of requests in flight) takes them off again.
redis.call('HSET', KEYS[10], id, ARGV[3])
redis.call('PEXPIRE', KEYS[10], lease * 2)

for _, s in ipairs(scopes) do
  redis.call('ZADD', KEYS[s[1]], now, id)
  redis.call('PEXPIRE', KEYS[s[1]], window * 2)
  redis.call('ZADD', KEYS[s[2]], now, id)
  redis.call('HSET', KEYS[s[3]], id, tokens)
  redis.call('HINCRBY', KEYS[s[3]], '__sum', tokens)
  redis.call('PEXPIRE', KEYS[s[2]], window * 2)
  redis.call('PEXPIRE', KEYS[s[3]], window * 2)
  redis.call('ZADD', KEYS[s[4]], now + lease, id)
  redis.call('PEXPIRE', KEYS[s[4]], lease * 2)
end
return {1, '', 0, rpm_remaining, rpm_reset, tpm_remaining, tpm_reset}
`;

/**
 * Settles an admitted request with what it really used: its token reservation becomes the actual
 * count, its concurrency slot frees, unused budget returns. Only the first settlement of a request
 * changes anything (the concurrency entry is the marker), so retries can never refund twice.
 *
 * The refund goes to the budget the request reserved from (its month), and only while that
 * reservation is outstanding, so a lease that expired or a counter reloaded meanwhile never
 * refunds twice or into the wrong month.
 *
 * KEYS: as {@link ADMIT_SCRIPT}. ARGV: 1 request id, 2 actual tokens, 3 refund (reserved cost
 * minus actual cost, micros, an integer string computed exactly by the caller).
 * Returns 1 when this call settled the request, 0 when it was already settled.
 */
export const SETTLE_SCRIPT = `
local id = ARGV[1]
local actual = tonumber(ARGV[2])
local first = redis.call('ZREM', KEYS[4], id)
redis.call('ZREM', KEYS[8], id)
local reserved_cost = redis.call('HDEL', KEYS[10], id)
if reserved_cost == 1 and ARGV[3] ~= '0' and redis.call('EXISTS', KEYS[9]) == 1 then
  redis.call('INCRBY', KEYS[9], ARGV[3])
end
if first == 0 then return 0 end
for _, amounts in ipairs({KEYS[3], KEYS[7]}) do
  local reserved = redis.call('HGET', amounts, id)
  if reserved then
    redis.call('HSET', amounts, id, actual)
    redis.call('HINCRBY', amounts, '__sum', actual - tonumber(reserved))
  end
end
return 1
`;

/**
 * Reads where a key and its tenant stand, without admitting anything (old window entries are
 * trimmed, nothing is added): for the `x-ratelimit-*` headers of responses that are not admitted
 * themselves (model lists, usage, cost previews).
 *
 * KEYS: 1 key rpm, 2 key tpm set, 3 key tpm amounts, 4 tenant rpm, 5 tenant tpm set, 6 tenant tpm amounts
 * ARGV: 1 key rpm limit, 2 key tpm limit, 3 tenant rpm limit, 4 tenant tpm limit
 * Returns {rpm_remaining, rpm_reset_ms, tpm_remaining, tpm_reset_ms} of the tighter scope.
 */
export const PEEK_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = 60000

local function oldest_reset(set)
  local first = redis.call('ZRANGE', set, 0, 0, 'WITHSCORES')
  if #first == 0 then return 0 end
  return math.max(0, tonumber(first[2]) + window - now)
end

local rpm_remaining, rpm_reset, tpm_remaining, tpm_reset = math.huge, 0, math.huge, 0
for _, s in ipairs({ {1, 2, 3, tonumber(ARGV[1]), tonumber(ARGV[2])}, {4, 5, 6, tonumber(ARGV[3]), tonumber(ARGV[4])} }) do
  local rpm, tset, tamt = KEYS[s[1]], KEYS[s[2]], KEYS[s[3]]
  local rpm_limit, tpm_limit = s[4], s[5]
  redis.call('ZREMRANGEBYSCORE', rpm, '-inf', now - window)
  local expired = redis.call('ZRANGEBYSCORE', tset, '-inf', now - window)
  for _, member in ipairs(expired) do
    local amount = tonumber(redis.call('HGET', tamt, member) or '0')
    if amount ~= 0 then redis.call('HINCRBY', tamt, '__sum', 0 - amount) end
    redis.call('HDEL', tamt, member)
  end
  if #expired > 0 then redis.call('ZREMRANGEBYSCORE', tset, '-inf', now - window) end
  local used = tonumber(redis.call('HGET', tamt, '__sum') or '0')
  rpm_remaining = math.min(rpm_remaining, rpm_limit - redis.call('ZCARD', rpm))
  rpm_reset = math.max(rpm_reset, oldest_reset(rpm))
  tpm_remaining = math.min(tpm_remaining, tpm_limit - used)
  tpm_reset = math.max(tpm_reset, oldest_reset(tset))
end
return {rpm_remaining, rpm_reset, tpm_remaining, tpm_reset}
`;
