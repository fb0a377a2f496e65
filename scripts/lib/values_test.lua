-- Tests of lib/values.lua. Run them with:
--
--   automator test scripts/lib/values_test.lua

local values = require("lib.values")

test("text and object take what a tool wrote for what it does not know as nothing", function()
  expect.equal(values.text("ws-17"), "ws-17")
  expect.equal(values.text(""), nil)
  expect.equal(values.text(json.null), nil)
  expect.equal(values.text(17), nil)
  expect.equal(values.object({ a = 1 }), { a = 1 })
  expect.equal(values.object(json.null), {})
end)

test("add keeps a list of text without repeats or blanks; has reads a missing list as empty", function()
  local list = {}
  for _, value in ipairs({ "a", "b", "a", "", json.null }) do values.add(list, value) end
  expect.equal(list, { "a", "b" })
  expect.equal(values.has(list, "b"), true)
  expect.equal(values.has(nil, "b"), false)
end)

test("mentions ignores case; host_of takes a URL's host", function()
  expect.equal(values.mentions("Password Spray attack", { "brute force", "password spray" }), true)
  expect.equal(values.mentions(json.null, { "x" }), false)
  expect.equal(values.host_of("https://cdn.example.net:8443/a?b"), "cdn.example.net")
  expect.equal(values.host_of("cdn.example.net/a"), nil)
end)
