/**
 * The Lua scripts of the store: each is one atomic step in Redis, so that compare-and-set and
 * compare-and-delete hold however many processes race. Every script takes the entry key first and
 * the lease key second (one hash tag: both land on one cluster slot).
 *
 * The entry is a hash: `v` its version, `s` the sealed token set, `i` "1" once invalidated, `r` "1"
 * once its refresh token was claimed. Notifications go to the client's channel: `w:<version>`
 * (written), `i:<version>` (invalidated), `r` (lease released).
 */

/** ARGV: expected version ("" = no entry), new version, sealed, ttl ms, channel. Returns 1 if written. */
export const put = `
local current = redis.call('HGET', KEYS[1], 'v')
if ARGV[1] == '' then
  if current then return 0 end
elseif current ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[2], 's', ARGV[3], 'i', '0', 'r', '0')
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PUBLISH', ARGV[5], 'w:' .. ARGV[2])
return 1
`

/** ARGV: version, channel. Returns 1 if it invalidated the entry. */
export const invalidate = `
if redis.call('HGET', KEYS[1], 'v') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'i') == '1' then return 0 end
redis.call('HSET', KEYS[1], 'i', '1')
redis.call('PUBLISH', ARGV[2], 'i:' .. ARGV[1])
return 1
`

/** ARGV: lease id, channel. Compare-and-delete; returns 1 if it released the lease. */
export const release = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2])
redis.call('PUBLISH', ARGV[2], 'r')
return 1
`

/** ARGV: lease id, version. Returns 1 if the lease holder claimed the entry's refresh token. */
export const claim = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'v') ~= ARGV[2] then return 0 end
if redis.call('HGET', KEYS[1], 'r') == '1' then return 0 end
redis.call('HSET', KEYS[1], 'r', '1')
return 1
`

/** ARGV: lease id, version. Gives back a claimed refresh token, for the lease holder only. */
export const unclaim = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'v') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'r', '0')
return 1
`

/** Returns the entry's version (or false) and whether the lease is held: what a waiter checks. */
export const state = `
return { redis.call('HGET', KEYS[1], 'v'), redis.call('EXISTS', KEYS[2]) }
`
