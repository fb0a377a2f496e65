-- Micro-benchmarks for Tests/PatternHarness/bench.sh: `bench stock|ours bench_cases.lua NAME`
-- runs case NAME and prints the CPU time of its timed part and a checksum (which must agree).
local name = arg[1]
local clock = os.clock

local function big_text()
    local t, seps = {}, { ' ', '  ', '\t', ' \n ', '\r\n', '   \t' }
    local n, i = 0, 0
    while n < 1048576 do
        i = i + 1
        local w = 'word' .. i .. seps[i % #seps + 1]
        t[#t + 1] = w
        n = n + #w
    end
    return table.concat(t)
end

local cases = {}

-- 1M short captures, the brief's example
function cases.match_kv()
    local s, c = "key=value", 0
    for _ = 1, 1000000 do
        local k, v = s:match("(%w+)=(%w+)")
        c = c + #k + #v
    end
    return c
end

-- 1M plain finds in an 80-byte line (hit near the end)
function cases.find_plain()
    local s, c = ("x"):rep(50) .. "needle" .. ("y"):rep(24), 0
    for _ = 1, 1000000 do c = c + s:find("needle", 1, true) end
    return c
end

-- 1M plain finds that miss
function cases.find_plain_miss()
    local s, c = ("x"):rep(50) .. "needls" .. ("y"):rep(24), 0
    for _ = 1, 1000000 do if s:find("needle", 1, true) == nil then c = c + 1 end end
    return c
end

-- 1M finds of a pattern without magic (find takes it as plain text)
function cases.find_nomagic()
    local s, c = "GET /index.html HTTP/1.1", 0
    for _ = 1, 1000000 do c = c + s:find("HTTP") end
    return c
end

-- 1M short finds with a class
function cases.find_class()
    local s, c = "user=alice id=4711 ok", 0
    for _ = 1, 1000000 do local a, b = s:find("%d+"); c = c + a + b end
    return c
end

-- 1M short gsubs
function cases.gsub_short()
    local s, c = "10.1.2.3", 0
    for _ = 1, 1000000 do local r = s:gsub("%.", "/"); c = c + #r end
    return c
end

-- 1M trims
function cases.match_trim()
    local s, c = "   some text with spaces   ", 0
    for _ = 1, 1000000 do c = c + #s:match("^%s*(.-)%s*$") end
    return c
end

-- 200k gmatch loops over a short line
function cases.gmatch_words()
    local s, c = "the quick brown fox jumps over the lazy dog", 0
    for _ = 1, 200000 do for w in s:gmatch("%a+") do c = c + #w end end
    return c
end

-- 1M matches of a different (non-cached) pattern each time
function cases.match_dynamic()
    local s, c = "k17=value", 0
    for i = 1, 1000000 do
        local v = s:match("k" .. (i % 1000) .. "=(%w+)")
        if v then c = c + 1 end
    end
    return c
end

-- gsub("%s+", " ") over 1 MB, 10 times
function cases.gsub_big()
    local big = big_text()
    local t0, c = clock(), 0
    for _ = 1, 10 do local r, n = big:gsub("%s+", " "); c = c + #r + n end
    return c, clock() - t0
end

-- the line parser of Benchmarks/lua/strings_tables.lua alone, 80k lines
function cases.parse_lines()
    local lines = {}
    for i = 1, 80000 do
        lines[i] = ("%d info web-%02d.corp.example user=user%03d action=login src=10.%d.%d.%d bytes=%d")
            :format(1700000000 + i, i % 40, i % 25, i % 255, i % 7, i % 13, i * 7)
    end
    local t0, c = clock(), 0
    for _, line in ipairs(lines) do
        local time, severity, host, user, action, source, bytes =
            line:match("^(%d+) (%a+) (%S+) user=(%w+) action=(%a+) src=([%d%.]+) bytes=(%d+)$")
        local masked = source:gsub("%.%d+$", ".0")
        if line:find("sudo", 1, true) or line:find("action=delete") then c = c + 1 end
        c = c + #time + #severity + #host + #user + #action + #masked + #bytes
    end
    return c, clock() - t0
end

local f = cases[name]
if not f then error("no case " .. tostring(name)) end
local t0 = clock()
local c, t = f()
t = t or (clock() - t0)
print(("%-16s %8.1f ms  checksum %s"):format(name, t * 1000, tostring(c)))
