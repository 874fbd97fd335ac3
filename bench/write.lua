-- wrk script for the scenarios that send a body (POST /list, create, update, token issue).
-- The same script drives grantd and nginx, so both servers read identical requests.
--
-- Environment:
--   BENCH_METHOD     POST or PUT
--   BENCH_BODY_FILE  file holding the (urlencoded) request body
--   BENCH_TOKEN      bearer token; unset or empty: no Authorization header (token issue)
--   BENCH_IDS        "LO:HI": each request goes to <url path>/<id>, ids LO..HI in turn,
--                    each wrk thread starting at its own offset (update)
--   BENCH_COUNT      "1": count the answers by status and print them when wrk is done, as
--                    "answers: N 200, M other" (wrk's own figures do not say which status)
--   BENCH_IDS_OUT    file to write the first "id" of every 200 answer to, one a line (with
--                    BENCH_COUNT=1; the harness checks that each acknowledged create is stored)
local function env(name)
  local v = os.getenv(name)
  if v == "" then return nil end
  return v
end

local f = assert(io.open(assert(env("BENCH_BODY_FILE"), "BENCH_BODY_FILE is not set"), "rb"))
wrk.body = f:read("*a")
f:close()
wrk.method = env("BENCH_METHOD") or "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/json"
local token = env("BENCH_TOKEN")
if token then
  wrk.headers["Authorization"] = "Bearer " .. token
end

local lo, hi
local id_range = env("BENCH_IDS")
if id_range then
  lo, hi = id_range:match("^(%d+):(%d+)$")
  lo, hi = tonumber(lo), tonumber(hi)
  assert(lo and hi and lo <= hi, "BENCH_IDS must be LO:HI")
end

local threads = {}
local nthreads = 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("index", nthreads)
  table.insert(threads, thread)
end

local next_id
function init(args)
  -- acknowledged ids as text, gathered in chunks (done() reads them with thread:get)
  ok, other, ids, ids_tail = 0, 0, "", ""
  if lo then
    -- threads start far apart so they do not update the same rows at the same moment
    next_id = lo + ((index - 1) * 7919) % (hi - lo + 1)
  end
end

if lo then
  function request()
    local id = next_id
    next_id = next_id + 1
    if next_id > hi then next_id = lo end
    return wrk.format(nil, wrk.path .. "/" .. id)
  end
end

local ids_out = env("BENCH_IDS_OUT")

if env("BENCH_COUNT") == "1" then
  function response(status, headers, body)
    if status == 200 then
      ok = ok + 1
      if ids_out then
        local id = body:match('"id":(%d+)')
        if id then
          ids_tail = ids_tail .. id .. "\n"
          if #ids_tail > 4096 then
            ids = ids .. ids_tail
            ids_tail = ""
          end
        end
      end
    else
      other = other + 1
    end
  end

  function done(summary, latency, requests)
    local o, b = 0, 0
    for _, t in ipairs(threads) do
      o = o + t:get("ok")
      b = b + t:get("other")
    end
    io.write(string.format("answers: %d 200, %d other\n", o, b))
    if ids_out then
      local out = assert(io.open(ids_out, "w"))
      for _, t in ipairs(threads) do
        out:write(t:get("ids"), t:get("ids_tail"))
      end
      out:close()
    end
  end
end
