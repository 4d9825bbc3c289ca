-- wrk script: GET a page of events with one member's bearer token.
local path = os.getenv("BENCH_PATH")
local token = os.getenv("TOKEN")

function request()
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end

-- p99.9, which wrk's --latency table leaves out (bench/*.sh reads it).
function done(summary, latency, requests)
  io.write(string.format("p99.9 %.2fms\n", latency:percentile(99.9) / 1000))
end
