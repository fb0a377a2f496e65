-- Times `n` calls of a function that takes one integer and returns it, and an empty loop of
-- the same length, with os.clock (both interpreters have it, sandbox included).
-- Arguments: the function's dotted name as a global (e.g. "bench.identity"), and n.
-- Returns the two times in seconds: the call loop's, then the empty loop's.
local name, n = ...
n = math.tointeger(tonumber(n)) or error("n must be an integer, got " .. tostring(n))
local f = _ENV
for part in name:gmatch("[^.]+") do f = f[part] end
assert(type(f) == "function", name .. " is not a function")

local function empty_loop(count)
    local x = 0
    for i = 1, count do x = i end
    return x
end

local function call_loop(g, count)
    local x = 0
    for i = 1, count do x = g(i) end
    return x
end

local start = os.clock()
assert(empty_loop(n) == n)
local empty = os.clock() - start
start = os.clock()
assert(call_loop(f, n) == n)
local calls = os.clock() - start
return calls, empty
