-- Runs call_loop.lua in the stock interpreter, calling the C baseline from a shared library.
-- Usage: lua5.4 stock_call.lua LIBRARY.so call_loop.lua N  (prints: call_seconds empty_seconds)
local library, workload, n = ...
bench_c = { identity = assert(package.loadlib(library, "bench_identity")) }
print(assert(loadfile(workload))("bench_c.identity", n))
