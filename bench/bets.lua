-- wrk script: POST a bet, each request with a fresh Idempotency-Key and
-- the next member's token (TOKENS_FILE, one per line), so wallets are
-- spread over members as real traffic is. BENCH_PATH and BENCH_BODY name
-- the endpoint and the bet.
local path = os.getenv("BENCH_PATH")
local body = os.getenv("BENCH_BODY")
local tokens = {}
local counter = 0
local thread_count = 0
local run = 0

function setup(thread)
  thread:set("id", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  for line in io.lines(os.getenv("TOKENS_FILE")) do
    tokens[#tokens + 1] = line
  end
  math.randomseed(os.time() * 1000 + id)
  run = math.random(1, 2000000000)
  counter = id * 7
end

-- setup() runs in the main Lua state: here thread_count is 0, so keys are
-- made unique by the thread's id and run, members by the counter.
function request()
  counter = counter + 1
  local t = tokens[(counter % #tokens) + 1]
  return wrk.format("POST", path, {
    ["Authorization"] = "Bearer " .. t,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = string.format("bench-%d-%d-%d", run, id, counter),
  }, body)
end

-- p99.9, which wrk's --latency table leaves out (bench/*.sh reads it).
function done(summary, latency, requests)
  io.write(string.format("p99.9 %.2fms\n", latency:percentile(99.9) / 1000))
end
