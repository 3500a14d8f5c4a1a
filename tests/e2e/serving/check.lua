-- SPDX-License-Identifier: GPL-2.0
--
-- check.lua - wrk(1) script of the serving scenario (serving.sh): the
-- requests alternate between the large file and the token stream, and
-- every response body is compared byte for byte with the expected one.
--   wrk ... -s check.lua URL -- BIG_PATH BIG_FILE STREAM_PATH STREAM_FILE
-- done() prints "serving-wrk: ok=N big=N stream=N bad=N".

local threads = {}

function setup(thread)
	table.insert(threads, thread)
end

local function slurp(name)
	local f = assert(io.open(name, "rb"))
	local s = f:read("*a")
	f:close()
	return s
end

function init(args)
	big_path, stream_path = args[1], args[3]
	big, stream = slurp(args[2]), slurp(args[4])
	n, ok, nbig, nstream, bad, badinfo = 0, 0, 0, 0, 0, ""
	reqs = { wrk.format("GET", big_path), wrk.format("GET", stream_path) }
end

function request()
	n = n + 1
	return reqs[(n % 2) + 1]
end

function response(status, headers, body)
	if status == 200 and body == big then
		ok, nbig = ok + 1, nbig + 1
	elseif status == 200 and body == stream then
		ok, nstream = ok + 1, nstream + 1
	else
		bad = bad + 1
		if bad <= 3 then
			badinfo = badinfo .. string.format(
				"serving-wrk: bad response: status %d, %d bytes, " ..
				"starts %q\n", status, #body, body:sub(1, 48))
		end
	end
end

function done(summary, latency, requests)
	local t = { ok = 0, big = 0, stream = 0, bad = 0 }
	for _, th in ipairs(threads) do
		io.write(th:get("badinfo"))
		t.ok = t.ok + th:get("ok")
		t.big = t.big + th:get("nbig")
		t.stream = t.stream + th:get("nstream")
		t.bad = t.bad + th:get("bad")
	end
	local e = summary.errors
	io.write(string.format("serving-wrk: ok=%d big=%d stream=%d bad=%d " ..
		"connect_err=%d read_err=%d write_err=%d status_err=%d " ..
		"timeout=%d bytes=%d us=%d\n", t.ok, t.big, t.stream, t.bad,
		e.connect, e.read, e.write, e.status, e.timeout,
		summary.bytes, summary.duration))
end
