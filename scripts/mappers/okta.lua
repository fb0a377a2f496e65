-- Turns an Okta System Log event (the LogEvent that scripts/integrations/okta.lua fetches) into an
-- incident: password spraying (ThreatInsight's security.threat.detected) and an account locked by
-- failed sign-ins (user.account.lock) from an address become brute_force incidents for
-- scripts/playbooks/brute_force.lua, with the address as fields.src_ip and the account as
-- fields.user; every other event an okta_event incident, which scripts/playbooks/alert_triage.lua
-- gives tier 1 with the address's reputation. fields.user is the Okta login the event is about,
-- which okta.suspend_user takes. An event posted to POST /api/v1/ingest/okta is mapped alike (an
-- Okta event hook's events, one at a time):
--
--   curl -H "Authorization: Bearer $TOKEN" --data-binary @scripts/examples/alerts/okta.json \
--        http://127.0.0.1:8080/api/v1/ingest/okta
--
-- No Okta event becomes an impossible_travel incident: a sign-in Okta flags as from a new place
-- or too fast (debugData.behaviors) carries that one place, and the playbook needs both.
-- https://developer.okta.com/docs/reference/api/system-log/ (the LogEvent object; event types)

local values = require("lib.values")
local text, object = values.text, values.object

-- What each event is, for the title, and how severe: one that is no attack by itself (a
-- lockout, a grant) is medium until someone looks.
local KNOWN = {
  ["security.threat.detected"] = { what = "Okta ThreatInsight: password spraying or credential stuffing", severity = "high" },
  ["user.account.lock"] = { what = "Account locked after failed sign-ins", severity = "medium" },
  ["user.mfa.okta_verify.deny_push"] = { what = "Okta Verify push denied: possible MFA fatigue", severity = "high" },
  ["user.session.impersonation.initiate"] = { what = "Okta session impersonation started", severity = "high" },
  ["user.account.privilege.grant"] = { what = "Admin role granted to a user", severity = "medium" },
  ["group.privilege.grant"] = { what = "Admin role granted to a group", severity = "medium" },
  ["user.account.report_suspicious_activity_by_enduser"] = { what = "User reported suspicious activity", severity = "high" },
}

-- Okta's severity of any other event.
local SEVERITY = { ERROR = "high", WARN = "medium", INFO = "low", DEBUG = "info" }

-- Guessing passwords: the events of one address over an hour are one attack, one incident.
local GUESSING = { ["security.threat.detected"] = true, ["user.account.lock"] = true }

-- Repeated events on one account (pushes denied one after another, an impersonation's events)
-- are one incident; each grant and each report its own.
local BY_ACCOUNT = { ["user.mfa.okta_verify.deny_push"] = true, ["user.session.impersonation.initiate"] = true }

--- The first target of `kind` ("User", "Group"), or nil.
local function target(event, kind)
  for _, each in ipairs(object(event.target)) do
    if type(each) == "table" and each.type == kind then return each end
  end
end

--- The Okta login the event is about: the user acted on where there is one (granted a role,
--- impersonated), else the user who acted (locked out, who denied the push).
local function account(event)
  local user = target(event, "User")
  if user and text(user.alternateId) then return user.alternateId end
  local actor = object(event.actor)
  if actor.type == "User" then return text(actor.alternateId) end
end

return mapper {
  map = function(event)
    local event_type = text(event.eventType)
    if not event_type or not text(event.uuid) then
      error("not an Okta System Log event: it has no uuid or eventType", 0)
    end
    local known = KNOWN[event_type] or {}
    local client = object(event.client)
    local place = object(client.geographicalContext)
    local src_ip, user = text(client.ipAddress), account(event)
    local actor = object(event.actor)
    local group = target(event, "Group")
    local kind = GUESSING[event_type] and src_ip and "brute_force" or "okta_event"
    local what = known.what or text(event.displayMessage) or event_type
    local about = group and text(group.displayName) or user

    local source_ref = event.uuid
    if kind == "brute_force" then
      source_ref = "okta:guessing:" .. src_ip
    elseif BY_ACCOUNT[event_type] and user then
      source_ref = ("okta:%s:%s"):format(event_type, user)
    end
    return {
      title = about and ("%s: %s"):format(what, about) or what,
      type = kind,
      severity = known.severity or SEVERITY[event.severity] or "medium",
      source_ref = source_ref,
      details = ("%s\n%s at %s, outcome %s%s"):format(text(event.displayMessage) or what, event_type,
        text(event.published) or "an unknown time", text(object(event.outcome).result) or "unknown",
        text(object(event.outcome).reason) and (": " .. event.outcome.reason) or ""),
      labels = { "okta", event_type },
      fields = {
        event_type = event_type,
        okta_event_id = event.uuid,
        user = user,
        actor = text(actor.alternateId),
        group = group and text(group.displayName),
        src_ip = src_ip,
        country = text(place.country),
        city = text(place.city),
        outcome = text(object(event.outcome).result),
        published = text(event.published),
      },
    }
  end,

  -- A spray's events, or pushes denied one after another, within an hour join one incident.
  dedup_window = "1h",
}
