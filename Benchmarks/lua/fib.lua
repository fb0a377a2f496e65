-- CPU-bound Lua: function calls and integer arithmetic, no library calls.
-- Prints fib(32); stock lua5.4 and `automator run` must print the same.
local function fib(n)
    if n < 2 then return n end
    return fib(n - 1) + fib(n - 2)
end

print(("fib(32) = %d"):format(fib(32)))
