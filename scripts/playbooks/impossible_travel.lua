-- Impossible travel: one account signed in from two places too far apart for the time
-- between. Computes the distance and the speed it implies, closes the incident when a plane
-- could have made the trip, and otherwise has the user confirm the sign-ins. An account the
-- user does not vouch for is disabled and its sessions ended at once in the identity provider
-- that holds it (lib/identity.lua: Okta or Microsoft Entra ID, by where the alert came from, else
-- the one set up), then gets its credentials reset by the identity team, and is enabled again.
-- Try it with:
--
--   automator run scripts/playbooks/impossible_travel.lua --incident scripts/examples/incidents/impossible_travel.json
--
-- It reads fields.user, fields.manager (who asks the user; tier 1 when absent) and the two
-- sign-ins, each with time (UTC, ISO 8601), ip, country, city, lat and lon: in fields.logins,
-- where a mapper puts them (mappers/splunk.lua does), or else in raw.logins, where an identity
-- provider that posts the incident whole sends them.

-- An airliner's cruising speed: anything faster needs two people, or one account in two hands.
local MAX_SPEED_KMH = 900

-- IP geolocation is often a few hundred kilometres off: closer sign-ins prove nothing.
local MIN_DISTANCE_KM = 500

local EARTH_RADIUS_KM = 6371

local identity = require("lib.identity")
local respond = require("lib.respond")

--- Seconds since the epoch for a UTC time such as "2026-11-29T06:12:40Z" (fractions ignored);
--- nil for anything else.
local function epoch(iso)
  if type(iso) ~= "string" then return nil end
  local y, m, d, hh, mm, ss = iso:match("^(%d%d%d%d)-(%d%d)-(%d%d)T(%d%d):(%d%d):(%d%d)[.%d]*Z$")
  if not y then return nil end
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  -- Days since 1970-01-01 (Howard Hinnant's days_from_civil): os.time would read the fields
  -- as local time.
  if m <= 2 then y = y - 1 end
  local era = y // 400
  local year_of_era = y - era * 400
  local day_of_year = (153 * ((m + 9) % 12) + 2) // 5 + d - 1
  local day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
  local days = era * 146097 + day_of_era - 719468
  return days * 86400 + tonumber(hh) * 3600 + tonumber(mm) * 60 + tonumber(ss)
end

--- Great-circle distance in km between two points given in degrees (the haversine formula).
local function distance_km(lat1, lon1, lat2, lon2)
  local rad = math.pi / 180
  local dlat, dlon = (lat2 - lat1) * rad, (lon2 - lon1) * rad
  local h = math.sin(dlat / 2) ^ 2 + math.cos(lat1 * rad) * math.cos(lat2 * rad) * math.sin(dlon / 2) ^ 2
  -- Rounding can push h a hair above 1, out of asin's domain.
  return 2 * EARTH_RADIUS_KM * math.asin(math.min(1, math.sqrt(h)))
end

--- `value` when it is text, else nil: an identity provider writes null for what it does not know.
local function text(value)
  return type(value) == "string" and value or nil
end

--- A sign-in from the alert, with `at` in seconds since the epoch and `place` to show; nil when
--- it lacks a UTC time or a position.
local function sign_in(login)
  if type(login) ~= "table" then return nil end
  local at, lat, lon = epoch(login.time), login.lat, login.lon
  if not at or math.type(lat) == nil or math.type(lon) == nil then return nil end
  local country = text(login.country) or "an unknown country"
  return {
    at = at,
    ip = text(login.ip) or "address unknown",
    lat = lat,
    lon = lon,
    place = text(login.city) and (login.city .. ", " .. country) or country,
  }
end

--- A sign-in for people to read: "Lyon, FR (198.51.100.14) at 2026-11-29 06:12 UTC".
local function describe(s)
  return ("%s (%s) at %s"):format(s.place, s.ip, os.date("!%Y-%m-%d %H:%M UTC", s.at))
end

--- A duration for people to read: "40 s", "51 min" or "3.2 h".
local function span(seconds)
  if seconds < 60 then return ("%d s"):format(seconds) end
  if seconds < 3600 then return ("%d min"):format(seconds // 60) end
  return ("%.1f h"):format(seconds / 3600)
end

return playbook {
  name = "Impossible travel",
  match = { type = "impossible_travel" },
  -- A stolen password is used within hours: this SLA holds whatever the severity.
  sla = "4h",
  -- The user's own "not me", asked by their manager, is the approval: an approver in chat would
  -- only delay the intruder's exit. Enabling the account again undoes it.
  approvals = identity.disable_actions(),

  run = function(inc)
    local user = inc.fields.user or "the user"
    local logins = inc.fields.logins or (type(inc.raw) == "table" and inc.raw.logins)
    if type(logins) ~= "table" or #logins < 2 then
      inc:note("The alert does not carry two sign-ins to compare: review it by hand.")
      inc:update{ owner = "tier1" }
      return
    end

    local first, second = sign_in(logins[1]), sign_in(logins[2])
    if not first or not second then
      inc:note("A sign-in of the alert lacks a UTC time (2026-11-29T06:12:40Z), a latitude or a longitude:"
        .. " compare them by hand.")
      inc:update{ owner = "tier1" }
      return
    end
    if first.at > second.at then first, second = second, first end
    local km = distance_km(first.lat, first.lon, second.lat, second.lon)
    local elapsed = second.at - first.at
    -- Different services stamp sign-ins with clocks that drift: count at least a minute.
    local speed = km / (math.max(elapsed, 60) / 3600)
    inc:note(("%s\n%s\n%.0f km in %s: %.0f km/h.")
      :format(describe(first), describe(second), km, span(elapsed), speed))
    inc:update{ fields = { distance_km = math.floor(km + 0.5), speed_kmh = math.floor(speed + 0.5) } }

    local benign
    if km < MIN_DISTANCE_KM then
      benign = "the two places are within the error of IP geolocation"
    elseif speed < MAX_SPEED_KMH then
      benign = "travel is possible"
    end
    if benign then
      inc:close{ reason = "Benign: " .. benign .. ".", resolution = "benign" }
      return
    end

    local confirm = inc:task{
      title = "Confirm the sign-in with " .. user,
      owner = inc.fields.manager or "tier1",
      due = "1h",
      description = ("Ask %s, by phone or in person (the mailbox may be in other hands), whether both"
        .. " sign-ins were theirs: %s, then %s."):format(user, describe(first), describe(second)),
      choices = { "it was me", "not me" },
    }
    -- Only a clear "it was me" clears the account: a user who cannot be reached is no alibi.
    if confirm:wait() == "it was me" then
      inc:close{ reason = ("Benign: %s confirmed both sign-ins."):format(user), resolution = "benign" }
      return
    end

    if inc.severity ~= "critical" then inc:update{ severity = "high" } end
    inc:note(("%s did not confirm the sign-ins: the account is treated as compromised."):format(user))

    -- Every minute is the intruder's: shut them out now, and let people do what needs judgement.
    local provider, why = nil, "the alert names no account"
    if inc.fields.user then provider, why = identity.provider(inc) end
    local disabled
    if provider then disabled, why = respond.act(provider.disable, { user = inc.fields.user }, inc) end
    local steps = "Disable the account, revoke every session and refresh token, reset the password"
    if disabled then
      -- A disabled account's refresh tokens work until they expire.
      local ended, not_ended = respond.act(provider.end_sessions, { user = inc.fields.user }, inc)
      inc:note(("Account disabled (%s)%s."):format(respond.label(disabled),
        ended and ", its sessions ended" or "; its sessions were not ended: " .. not_ended))
      steps = ended and "The account is disabled and its sessions ended. Reset the password"
        or "The account is disabled. Revoke every session and refresh token, reset the password"
    else
      inc:note("The account was not disabled automatically: " .. why .. ".")
    end

    local reset = inc:task{
      title = "Reset credentials and revoke sessions for " .. user,
      owner = "iam-team",
      due = "30m",
      description = ("%s and remove MFA methods the user did not register. Then review what the"
        .. " account did since %s.%s"):format(steps, os.date("!%Y-%m-%d %H:%M UTC", first.at),
        disabled and " Automator enables the account when this task is done." or ""),
    }
    local done = reset:wait()
    inc:note("Identity team: " .. (done ~= "" and done or "reset done, no details given."))
    if disabled then
      respond.undo(inc, disabled, {
        title = "Enable the account of " .. user,
        owner = "iam-team",
        due = "1h",
        description = "Its credentials are reset, but enabling it again failed",
      })
    end
    inc:close{ reason = "Account compromise: credentials reset and sessions revoked.", resolution = "true_positive" }
  end,
}
