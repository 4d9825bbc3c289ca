-- wrk script: GET one tenant with a bearer token. With TOKENS_FILE set,
-- every request uses the next never-seen token (cold signature checks);
-- otherwise the single TOKEN (warm cache).
local path = os.getenv("BENCH_PATH")
local token = os.getenv("TOKEN")
local tokens = nil
local counter = 0
local thread_count = 0

function setup(thread)
  thread:set("id", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  local file = os.getenv("TOKENS_FILE")
  if file then
    tokens = {}
    for line in io.lines(file) do
      tokens[#tokens + 1] = line
    end
    counter = id
  end
end

function request()
  local t = token
  if tokens then
    counter = counter + 2
    t = tokens[(counter % #tokens) + 1]
  end
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. t })
end

-- p99.9, which wrk's --latency table leaves out (bench/*.sh reads it).
function done(summary, latency, requests)
  io.write(string.format("p99.9 %.2fms\n", latency:percentile(99.9) / 1000))
end
