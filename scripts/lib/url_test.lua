-- Tests of lib/url.lua. Run them with:
--
--   automator test scripts/lib/url_test.lua

local url = require("lib.url")

test("url.escape leaves the unreserved characters and percent-encodes the rest, upper case", function()
  expect.equal(url.escape("AZaz09-_.~"), "AZaz09-_.~")
  expect.equal(url.escape('{"Effect": "Deny"} a/b+c=d&é'), "%7B%22Effect%22%3A%20%22Deny%22%7D%20a%2Fb%2Bc%3Dd%26%C3%A9")
  expect.equal(url.escape(42), "42")
end)

test("url.escape keeps what it is told to keep, and only that", function()
  expect.equal(url.escape("j.doe@example.com/x", "@"), "j.doe@example.com%2Fx")
  expect.equal(url.escape("j.doe@example.com"), "j.doe%40example.com")
end)
