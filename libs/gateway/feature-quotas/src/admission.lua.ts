/**
 * One atomic admission decision over every limit of a request, so concurrent requests on any
 * number of gateway replicas can never jointly overshoot a limit.
 *
 * Sliding 60 s windows (exact, not approximated): a sorted set of request ids scored by admission
 * time per scope, and for tokens a hash of each request's reserved tokens plus their running sum
 * (field `__sum`). Concurrency: a sorted set of in-flight request ids scored by lease expiry, so a
 * crashed gateway's entries age out within a lease (the live gateway renews its requests' leases).
 * Budget: remaining micro-units of the month, and each request's reservation until it is charged;
 * a reservation whose lease lapsed (its gateway died) is given back here and remembered as lapsed,
 * so that the charge, when the job's usage settles, is taken from the counter instead.
 *
 * KEYS: 1 key rpm, 2 key tpm set, 3 key tpm amounts, 4 key concurrency,
 *       5 tenant rpm, 6 tenant tpm set, 7 tenant tpm amounts, 8 tenant concurrency, 9 budget,
 *       10 budget reservations (request id -> reserved cost, until settled),
 *       11 lapsed reservations (request id -> cost given back, until charged),
 *       12 reservation leases (sorted set: request id scored by lease expiry)
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
-- Reservation bookkeeping outlives any lease by far: settlement may wait for PostgreSQL.
local ledger_ttl = 2 * 86400000

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

-- Reservations of requests whose gateway stopped renewing them: back to the budget.
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[12], '-inf', now)
if #lapsed > 0 then
  local loaded = redis.call('EXISTS', KEYS[9]) == 1
  for _, rid in ipairs(lapsed) do
    local reserved = redis.call('HGET', KEYS[10], rid)
    if reserved then
      redis.call('HDEL', KEYS[10], rid)
      if loaded and reserved ~= '0' then redis.call('INCRBY', KEYS[9], reserved) end
      redis.call('HSET', KEYS[11], rid, reserved)
    end
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[12], '-inf', now)
  redis.call('PEXPIRE', KEYS[11], ledger_ttl)
end

local remaining = redis.call('GET', KEYS[9])
if not remaining then return {0, 'budget_unloaded', 0, 0, 0, 0, 0} end
if tonumber(remaining) < cost then
  -- Where the limits stand without this request (it counted itself in above).
  return {0, 'budget', 0, rpm_remaining + 1, rpm_reset, tpm_remaining + tokens, tpm_reset}
end
redis.call('DECRBY', KEYS[9], ARGV[3])
-- Kept beside the counter until settled: a counter reloaded from PostgreSQL meanwhile (which
-- knows nothing of requests in flight) takes them off again.
redis.call('HSET', KEYS[10], id, ARGV[3])
redis.call('PEXPIRE', KEYS[10], ledger_ttl)
redis.call('ZADD', KEYS[12], now + lease, id)
redis.call('PEXPIRE', KEYS[12], ledger_ttl)

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
 * Ends an admitted request's hold on its limits; safe to repeat, in any order with the others.
 * Its concurrency slot frees, and (the first time only: the slot is the marker) its token
 * reservation becomes the actual count when one is given. The budget, by action:
 * - `keep`: untouched (the job's usage is still to be charged by the settler);
 * - `release`: the reservation goes back, remembered as lapsed (a charge may still come, if the
 *   job ran after all: a client's cancel racing a worker's finish);
 * - `charge`: the actual cost replaces the reservation (refund = reserved - actual), or, if the
 *   reservation already lapsed and was given back, is taken from the counter. Charged once only.
 *
 * KEYS: as {@link ADMIT_SCRIPT}. ARGV: 1 request id, 2 actual tokens ('' to leave the token
 * windows), 3 action, 4 refund (micros, integer string computed exactly by the caller),
 * 5 actual cost (micros, integer string).
 * Returns 1 when this call freed the request's slot, 0 when it was already free.
 */
export const SETTLE_SCRIPT = `
local id = ARGV[1]
local first = redis.call('ZREM', KEYS[4], id)
redis.call('ZREM', KEYS[8], id)
if first == 1 and ARGV[2] ~= '' then
  local actual = tonumber(ARGV[2])
  for _, amounts in ipairs({KEYS[3], KEYS[7]}) do
    local reserved = redis.call('HGET', amounts, id)
    if reserved then
      redis.call('HSET', amounts, id, actual)
      redis.call('HINCRBY', amounts, '__sum', actual - tonumber(reserved))
    end
  end
end
local action = ARGV[3]
local loaded = redis.call('EXISTS', KEYS[9]) == 1
if action == 'release' then
  local reserved = redis.call('HGET', KEYS[10], id)
  if reserved then
    redis.call('HDEL', KEYS[10], id)
    redis.call('ZREM', KEYS[12], id)
    if loaded and reserved ~= '0' then redis.call('INCRBY', KEYS[9], reserved) end
    redis.call('HSET', KEYS[11], id, reserved)
    redis.call('PEXPIRE', KEYS[11], 2 * 86400000)
  end
elseif action == 'charge' then
  if redis.call('HDEL', KEYS[10], id) == 1 then
    redis.call('ZREM', KEYS[12], id)
    if loaded and ARGV[4] ~= '0' then redis.call('INCRBY', KEYS[9], ARGV[4]) end
  elseif redis.call('HDEL', KEYS[11], id) == 1 then
    if loaded and ARGV[5] ~= '0' then redis.call('DECRBY', KEYS[9], ARGV[5]) end
  end
end
return first
`;

/**
 * Renews the leases of a request in flight: its concurrency slots and its budget reservation.
 * KEYS: 1 key concurrency, 2 tenant concurrency, 3 reservation leases. ARGV: 1 request id,
 * 2 lease ms. Returns 1 while the request still holds its slot.
 */
export const RENEW_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expiry = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[2], 'XX', expiry, ARGV[1])
redis.call('ZADD', KEYS[3], 'XX', expiry, ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], 'XX', expiry, ARGV[1])
  return 1
end
return 0
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
