-- Tests of lib/severities.lua. Run them with:
--
--   automator test scripts/lib/severities_test.lua

local severities = require("lib.severities")

test("of_score gives the most severe name whose floor the score reaches, else info", function()
  local floors = { critical = 90, high = 70, medium = 40, low = 10 }
  expect.equal(severities.of_score(100, floors), "critical")
  expect.equal(severities.of_score(90, floors), "critical")
  expect.equal(severities.of_score(89.5, floors), "high")
  expect.equal(severities.of_score(40, floors), "medium")
  expect.equal(severities.of_score(10, floors), "low")
  expect.equal(severities.of_score(9, floors), "info")
  expect.equal(severities.of_score(5, { high = 5 }), "high", "a scale without every name")
end)

test("no_worse joins an alert that is not more severe than the open incident", function()
  expect.equal(severities.no_worse({ severity = "medium" }, { severity = "high" }), true)
  expect.equal(severities.no_worse({ severity = "high" }, { severity = "high" }), true)
  expect.equal(severities.no_worse({ severity = "critical" }, { severity = "high" }), false)
end)
