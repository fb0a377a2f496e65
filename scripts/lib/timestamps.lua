-- Times as Microsoft writes them (ISO 8601 in UTC, "2026-11-30T02:15:03.1266667Z"), as whole
-- ticks of 100 nanoseconds since 1970, the precision of Microsoft's own: a window of time can
-- then be halved exactly, and two times compared whatever number of decimals each was written
-- with ("…03.5Z" is after "…03Z", which text alone would not say).
--
--   local timestamps = require("lib.timestamps")
--   local middle = (timestamps.ticks(since) + timestamps.ticks(until)) // 2
--   local text = timestamps.text(middle)   -- "2026-11-30T02:15:03.1266667Z"

local timestamps = {}

--- Ticks in a second.
timestamps.SECOND = 10000000

--- Days from 1970-01-01 to the date (the proleptic Gregorian calendar), without the local time
--- zone os.time would apply.
local function days(year, month, day)
  year = month <= 2 and year - 1 or year
  local era = year // 400
  local of_era = year - era * 400
  local of_year = (153 * (month > 2 and month - 3 or month + 9) + 2) // 5 + day - 1
  return era * 146097 + of_era * 365 + of_era // 4 - of_era // 100 + of_year - 719468
end

--- The ticks of `text` ("2026-11-30T02:15:03Z", up to 7 decimals kept, more cut off), or nil
--- when it is not such a time in UTC.
function timestamps.ticks(text)
  if type(text) ~= "string" then return nil end
  local year, month, day, hour, minute, second, fraction =
    text:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):(%d%d)%.?(%d*)Z$")
  if not year or (fraction == "" and text:find("%.Z$")) then return nil end
  local seconds = ((days(tonumber(year), tonumber(month), tonumber(day)) * 24 + tonumber(hour)) * 60
    + tonumber(minute)) * 60 + tonumber(second)
  return seconds * timestamps.SECOND + tonumber((fraction .. "0000000"):sub(1, 7))
end

--- `ticks` written as Microsoft writes a time, with 7 decimals.
function timestamps.text(ticks)
  return os.date("!%Y-%m-%dT%H:%M:%S", ticks // timestamps.SECOND) .. (".%07dZ"):format(ticks % timestamps.SECOND)
end

return timestamps
