/*
 * One Redis hash per (credential, key): `state` running|done, `fp` the request fingerprint,
 * `owner` the running request's lease id, and once done `status`, `headers` (JSON), `body`.
 * Each script is one atomic step, so 1,000 duplicates arriving together see exactly one claim.
 */

/**
 * KEYS[1] record; ARGV fingerprint, owner, lease ms.
 * Returns {'claimed'} | {'mismatch'} | {'running', pttl} | {'done', status, headers, body}.
 */
export const CLAIM_SCRIPT = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'state', 'running', 'fp', ARGV[1], 'owner', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'claimed'}
end
if redis.call('HGET', KEYS[1], 'fp') ~= ARGV[1] then
  return {'mismatch'}
end
if state == 'running' then
  return {'running', tostring(redis.call('PTTL', KEYS[1]))}
end
local r = redis.call('HMGET', KEYS[1], 'status', 'headers', 'body')
return {'done', r[1], r[2], r[3]}
`;

/** KEYS[1] record; ARGV owner, lease ms. 1 while the owner still holds the lease, else 0. */
export const RENEW_SCRIPT = `
local r = redis.call('HMGET', KEYS[1], 'state', 'owner')
if r[1] == 'running' and r[2] == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`;

/**
 * KEYS[1] record; ARGV owner, fingerprint, status, headers JSON, body, ttl ms. Stores the
 * response when the owner still holds the lease, or when its lapsed lease was taken by no one;
 * 0 when another request holds the key now (its answer will be the stored one).
 */
export const COMPLETE_SCRIPT = `
local r = redis.call('HMGET', KEYS[1], 'state', 'owner')
if r[1] and not (r[1] == 'running' and r[2] == ARGV[1]) then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'done', 'fp', ARGV[2], 'status', ARGV[3], 'headers', ARGV[4], 'body', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return 1
`;

/** KEYS[1] record; ARGV owner. Frees a running claim of this owner; 1 if it did. */
export const RELEASE_SCRIPT = `
local r = redis.call('HMGET', KEYS[1], 'state', 'owner')
if r[1] == 'running' and r[2] == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`;
