/** The arithmetic both scripts share, as Lua functions. */
const WINDOW_FUNCTIONS = `
local function clock(windowMs)
  local now = redis.call('TIME')
  local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
  local window = math.floor(nowMs / windowMs)
  return window, nowMs - window * windowMs
end
-- A key's counts as of this window: the previous window's and this one's.
local function load(key, window)
  local state = redis.call('HMGET', key, 'w', 'c', 'p')
  local stored = tonumber(state[1])
  local current = tonumber(state[2]) or 0
  local previous = tonumber(state[3]) or 0
  if stored ~= window then
    if stored == window - 1 then previous = current else previous = 0 end
    current = 0
  end
  return previous, current
end
local function store(key, window, previous, current, windowMs, elapsed)
  redis.call('HSET', key, 'w', window, 'c', current, 'p', previous)
  redis.call('PEXPIRE', key, 2 * windowMs - elapsed)
end
`;

/**
 * The sliding-window counter every rate-limit key runs on in Redis, plugged into
 * rate-limiter-flexible as its `customIncrTtlLuaScript` (its own script is a fixed window,
 * which lets a client send twice the limit across a window boundary).
 *
 * The key is a hash holding the current window's number (`w`), its count (`c`) and the
 * previous window's count (`p`). A request is admitted while
 *   p × (time left in the current window / window) + c + cost ≤ limit,
 * i.e. the previous window's count fades out linearly as the current one goes by (the
 * approximation Cloudflare and others use: one key, constant memory, no per-request entries).
 * A refused request is not counted, so a client that keeps trying is not pushed further out.
 *
 * Called as rate-limiter-flexible calls its own script: KEYS[1] = the key, ARGV = cost,
 * window seconds, limit, window seconds. Returns {points, ms} in its format: points ≤ limit
 * (the rounded-up estimate) when admitted, limit + cost when refused; ms = until the current
 * window ends when admitted, until one more request of this cost would fit when refused (rounded
 * up to whole seconds).
 * Time is Redis's own (TIME), so replicas with skewed clocks agree on the windows.
 */
export const SLIDING_WINDOW_SCRIPT = `${WINDOW_FUNCTIONS}
local cost = tonumber(ARGV[1])
local windowMs = tonumber(ARGV[2]) * 1000
local limit = tonumber(ARGV[3])
local window, elapsed = clock(windowMs)
local previous, current = load(KEYS[1], window)
local weight = (windowMs - elapsed) / windowMs
if previous * weight + current + cost <= limit then
  current = current + cost
  store(KEYS[1], window, previous, current, windowMs, elapsed)
  return {math.ceil(previous * weight + current), windowMs - elapsed}
end
local wait
if current + cost <= limit then
  wait = math.ceil(windowMs * (1 - (limit - current - cost) / previous)) - elapsed
else
  wait = windowMs - elapsed + math.ceil(windowMs * (1 - (limit - cost) / current))
end
-- Whole seconds, as Retry-After says: the replica's in-memory block lasts as long, so a client
-- that ignores Retry-After reaches Redis about once a second, not at every fraction of a slot.
wait = math.max(1, math.ceil(wait / 1000)) * 1000
return {limit + cost, wait}
`;

/**
 * Counts requests a replica already admitted from memory (LocalAllowance), for many keys in one
 * call: no limit is checked, they were served. KEYS = the keys, ARGV[1] = window seconds,
 * ARGV[1 + i] = the count to add to KEYS[i]. Returns, per key in order, the same pair as above:
 * the estimate after adding (rounded up) and the ms until the current window ends.
 */
export const COUNT_ADMITTED_SCRIPT = `${WINDOW_FUNCTIONS}
local windowMs = tonumber(ARGV[1]) * 1000
local window, elapsed = clock(windowMs)
local weight = (windowMs - elapsed) / windowMs
local answers = {}
for i, key in ipairs(KEYS) do
  local previous, current = load(key, window)
  current = current + tonumber(ARGV[i + 1])
  store(key, window, previous, current, windowMs, elapsed)
  answers[2 * i - 1] = math.ceil(previous * weight + current)
  answers[2 * i] = windowMs - elapsed
end
return answers
`;
