-- wrk script: every request carries the bearer token (from $BENCH_TOKEN).
-- The same script is used against nginx, so both servers read identical requests.
local token = os.getenv("BENCH_TOKEN")
if token == nil or token == "" then
  error("BENCH_TOKEN is not set")
end
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Accept"] = "application/json"
