-- wrk script: GET a page of events with one member's bearer token.
local path = os.getenv("BENCH_PATH")
local token = os.getenv("TOKEN")

function request()
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end
