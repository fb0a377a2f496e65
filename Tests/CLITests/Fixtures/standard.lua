-- Standard Lua, run by both `automator run` and Debian's stock `lua5.4`: the outputs must match.
-- Nothing here may depend on addresses, time or hash order.

local function show(...) print(select("#", ...), ...) end

-- Strings and string.format
print(("hello"):upper(), #"h\0i", ("abc"):rep(3, "-"), ("Lua"):byte(1, -1))
print(string.format("%5d|%-5s|%05.1f|%x|%X|%o|%e|%g|%q", 42, "ab", 3.14159, 255, 255, 8, 12345.678, 0.0001, "a\n\0b\""))
print(string.format("%10.3s|%c%c%c|%i|%%|%a", "abcdef", 76, 117, 97, -7, 1.0))
print(("x"):rep(0), ("abc"):sub(-2), ("abc"):sub(2, 10), ("abc"):reverse(), ("  trim  "):len())
print(string.char(72, 105), ("%d items"):format(3), tostring(1e15), tostring(2^53), tostring(-0.0))
print(("a,b,,c"):find(",", 1, true), ("key=value"):match("(%w+)=(%w+)"))

-- Patterns
print(("hello world from lua"):gsub("%w+", string.upper))
print(("2024-01-15"):match("^(%d+)-(%d+)-(%d+)$"))
print(("THE (quick) fox"):find("%((%a+)%)"))
print(("  x  "):match("^%s*(.-)%s*$"), ("f(a(b)c)d"):match("%b()"), ("THE END"):gsub("%f[%w]%w+", "W"))
print(("abc"):gsub("", "-"), ("hello"):gsub("l+", { ll = "LL" }), ("abc"):gsub("%w", "%0%0"))
for k, v in ("a=1, b=2, c=3"):gmatch("(%w+)=(%w+)") do print(k, v) end
print(("aaa"):gsub("a*", "x"), ("abc"):find("b", -10), ("abc"):find("", 10), ("x"):match("()"))

-- Tables and table.sort
local t = { 5, 2, 8, 1, 9, 3 }
table.sort(t)
print(table.concat(t, ","), #t, table.unpack(t, 2, 4))
table.sort(t, function(a, b) return a > b end)
print(table.concat(t, " "))
table.insert(t, 1, 100); table.insert(t, 7); print(table.remove(t), table.remove(t, 1), #t)
print(table.concat(table.move({ 1, 2, 3 }, 1, 3, 2, { 9 }), ","), select("#", table.unpack({ 1, nil, 3 }, 1, 3)))
local packed = table.pack(1, nil, 3)
print(packed.n, packed[1], packed[2], packed[3])
local records = {}
for i = 1, 20 do records[i] = { name = "n" .. (i * 7 % 20), score = i * 13 % 17 } end
table.sort(records, function(a, b) if a.score ~= b.score then return a.score > b.score end return a.name < b.name end)
for i = 1, 5 do print(records[i].name, records[i].score) end

-- Closures and varargs
local function counter()
  local n = 0
  return function(step) n = n + (step or 1); return n end
end
local c1, c2 = counter(), counter()
print(c1(), c1(5), c2(), c1())
show()
show(nil, nil)
show(table.unpack({ 1, 2, 3 }))
local function tail(n, acc) if n == 0 then return acc end return tail(n - 1, acc + n) end
print(tail(100000, 0))
print(select(-1, "a", "b", "c"), select(2, "a", "b", "c"))

-- Metatables
local Vector = {}
Vector.__index = Vector
Vector.__add = function(a, b) return setmetatable({ x = a.x + b.x, y = a.y + b.y }, Vector) end
Vector.__eq = function(a, b) return a.x == b.x and a.y == b.y end
Vector.__tostring = function(v) return "(" .. v.x .. ", " .. v.y .. ")" end
Vector.__len = function() return 2 end
Vector.__call = function(v, k) return v[k] end
Vector.__lt = function(a, b) return a.x < b.x end
Vector.__concat = function(a, b) return tostring(a) .. tostring(b) end
function Vector.new(x, y) return setmetatable({ x = x, y = y }, Vector) end
function Vector:norm1() return math.abs(self.x) + math.abs(self.y) end
local v = Vector.new(1, 2) + Vector.new(3, 4)
print(tostring(v), v == Vector.new(4, 6), #v, v("x"), v:norm1(), Vector.new(1, 1) < v, v .. v)
local defaults = setmetatable({}, { __index = function(_, k) return k .. "?" end, __newindex = function(t, k, val) rawset(t, k, val * 2) end })
defaults.a = 21
print(defaults.a, defaults.b, rawget(defaults, "b"))
print(getmetatable(setmetatable({}, { __metatable = "locked" })), pcall(setmetatable, setmetatable({}, { __metatable = 1 }), {}))

-- Coroutines
local gen = coroutine.wrap(function(a, b)
  local c = coroutine.yield(a + b)
  local d, e = coroutine.yield(c * 2)
  return d + e
end)
print(gen(1, 2), gen(10), gen(3, 4))
local co = coroutine.create(function(...) coroutine.yield(...) error("oops") end)
print(coroutine.resume(co, "x", "y"))
print(coroutine.resume(co))
print(coroutine.status(co), coroutine.resume(co))
print(coroutine.isyieldable(), select(2, coroutine.running()))
local producer = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
print(producer(), producer(), producer())
local closable = coroutine.create(function() local x <close> = setmetatable({}, { __close = function() print("closed") end }) coroutine.yield() end)
coroutine.resume(closable)
print(coroutine.close(closable), coroutine.status(closable))

-- goto
for i = 1, 3 do
  for j = 1, 3 do
    if j == 2 then goto continue end

    print("goto", i, j)
    ::continue::
  end
end
do
  local k = 0
  ::top::
  k = k + 1
  if k < 5 then goto top end
  print("k", k)
end

-- Integer and float arithmetic
print(7 // 2, -7 // 2, 7.0 // 2, 7 % -3, -7 % 3, 7.5 % 2, 2^10, 10 / 2, 3 | 5, 3 & 5, 3 ~ 5, ~0, 1 << 62, 1 >> 1)
print(math.type(1), math.type(1.0), math.type("1"), 1 == 1.0, math.tointeger(3.0), math.tointeger(3.5), 3 // 0.0, -3 % math.huge)
print(math.maxinteger + 1 == math.mininteger, math.floor(-3.5), math.ceil(-3.5), math.fmod(-7, 3), math.ult(1, -1), math.abs(math.mininteger))
print(pcall(function() return 1 // 0 end))
print(tonumber("0x10"), tonumber("  12  "), tonumber("1e2"), tonumber("z", 36), tonumber("10", 2), tonumber("abc"), tonumber("0x1p4"))
print(string.format("%.3f", math.pi), math.max(3, 7.5, -1), math.min(2, 1), 8 // 3 * 3 + 8 % 3)

-- utf8
local s = "héllo wörld ✓"
print(utf8.len(s), #s, utf8.char(72, 233, 10003), utf8.codepoint(s, 1, 3))
for p, cp in utf8.codes("añ✓") do print(p, cp) end
print(utf8.offset(s, 3), utf8.len("\xff"), utf8.charpattern)

-- Errors
print(select("#", pcall(error, { code = 42 })), type(select(2, pcall(error, { code = 42 }))), select(2, pcall(error, { code = 42 })).code)
print(select(2, pcall(error, "msg", 0)), select(2, pcall(error, "msg", 2)))
print(pcall(function() local x = nil; return x.field end))
print(pcall(function() return #5 end))
print(xpcall(function() error("deep") end, function(m) return "handled: " .. m end))
print(string.format("%s %s", pcall(string.rep)))
print(select(2, load("return +")))
