-- Tests of lib/timestamps.lua. Run them with:
--
--   automator test scripts/lib/timestamps_test.lua

local timestamps = require("lib.timestamps")

test("ticks counts 100 nanoseconds since 1970 in UTC, whatever the decimals", function()
  expect.equal(timestamps.ticks("1970-01-01T00:00:00Z"), 0)
  expect.equal(timestamps.ticks("1970-01-02T00:00:01.5Z"), (86400 + 1) * timestamps.SECOND + 5000000)
  expect.equal(timestamps.ticks("2026-11-30T02:15:03.1266667Z"), 1796004903 * timestamps.SECOND + 1266667)
  expect.equal(timestamps.ticks("2026-11-30T02:15:03.126Z"), 1796004903 * timestamps.SECOND + 1260000)
  expect.equal(timestamps.ticks("2024-02-29T23:59:59Z"), 1709251199 * timestamps.SECOND, "a leap day")
  expect.equal(timestamps.ticks("2026-11-30T02:15:03.123456789Z"), 1796004903 * timestamps.SECOND + 1234567,
               "decimals past the seventh cut off")
end)

test("ticks is nil for what is not a time in UTC", function()
  expect.equal(timestamps.ticks("2026-11-30T02:15:03+01:00"), nil)
  expect.equal(timestamps.ticks("2026-11-30 02:15:03Z"), nil)
  expect.equal(timestamps.ticks("2026-11-30T02:15:03.Z"), nil)
  expect.equal(timestamps.ticks(nil), nil)
  expect.equal(timestamps.ticks(1796004903), nil)
end)

test("text writes ticks back with 7 decimals, and reads as the same ticks", function()
  expect.equal(timestamps.text(0), "1970-01-01T00:00:00.0000000Z")
  expect.equal(timestamps.text(1796004903 * timestamps.SECOND + 1266667), "2026-11-30T02:15:03.1266667Z")
  local ticks = timestamps.ticks("2026-12-31T23:59:59.9999999Z")
  expect.equal(timestamps.ticks(timestamps.text(ticks)), ticks)
  expect.equal(timestamps.text(ticks + 1), "2027-01-01T00:00:00.0000000Z")
end)
