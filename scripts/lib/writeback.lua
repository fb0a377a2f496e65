-- Closes what an incident stands for elsewhere when it closes here, so that the team does not
-- close each case twice: the Microsoft Sentinel incident (sentinel.close_incident), the Microsoft
-- Defender XDR alert (defender.resolve_alert) or the CrowdStrike Falcon alert
-- (crowdstrike.close_alert) its mapper made it of, classified as it was resolved here; and, whatever
-- its source, the Jira issues its playbooks opened (jira.close_issue). scripts/hooks/incident_closed.lua
-- calls it on every close.
--
-- The source is the incident's `source` (the mapper: sentinel, defender, crowdstrike) and
-- `source_ref` (the Sentinel incident's name, the Defender alert's id, the Falcon alert's composite
-- id). Every alert that joined the incident (`alert_count` above 1) carried that same reference,
-- since an alert joins by its reference: each was an update of the one Sentinel incident or alert,
-- which one action closes. What this cannot close for the incident:
--   - while another incident here holds the same reference (an update that got more severe
--     opens one of its own: the mappers' is_duplicate), the source stays open: the last of them
--     to close closes it;
--   - the other alerts of the Defender incident (`fields.defender_incident`) are incidents of
--     their own here, each resolved when it closes, and the Defender incident is Defender's own
--     to resolve;
--   - an incident that came closed from Sentinel, Defender or Falcon (labelled closed_in_sentinel,
--     closed_in_defender, closed_in_falcon: closed there by someone, with no incident here for it)
--     was closed there already: it is left as it is.
-- Each close here is an update there, which the next fetch reads, closed: the mappers say so
-- (closed_in_source), and an alert closed there whose incident here is closed is journaled on that
-- incident and opens nothing (docs/integrations.md, "Closing the source"). So the echo of this
-- file's close opens no second incident, nor counts a second resolution in the reports.
-- The Jira issues are those jira.create_issue opened on the incident (its action history), but
-- for those a jira.close_issue of it closed already (an incident reopened and closed again) and
-- not undone since. An issue someone else filed about the incident is theirs to close.

local respond = require("lib.respond")
local has = require("lib.values").has

-- Sentinel's classification of each resolution (the close's `resolution`; none is undetermined).
-- close_incident gives it the classification reason that fits.
local SENTINEL = {
  true_positive = "TruePositive", benign = "BenignPositive", false_positive = "FalsePositive",
  undetermined = "Undetermined",
}

-- Defender's alert classification of each resolution.
local DEFENDER = {
  true_positive = "truePositive", benign = "informationalExpectedActivity", false_positive = "falsePositive",
  undetermined = "unknown",
}

-- What a true positive of these types was, in Defender's words (its alertDetermination).
local DETERMINATION = { malware = "malware", phishing = "phishing" }

-- For each source written back to: its action, its name for people, the action's parameters,
-- which of them says how it was classified there (Falcon has no field for it: close_alert tags the
-- alert automator/RESOLUTION), and the label its mapper gives what came closed from there.
local SOURCES = {
  sentinel = {
    action = "sentinel.close_incident", where = "Microsoft Sentinel", what = "incident", as = "classification",
    closed_there = "closed_in_sentinel",
    params = function(inc, comment)
      return { incident = inc.source_ref, classification = SENTINEL[inc.resolution] or SENTINEL.undetermined,
               comment = comment }
    end,
  },
  defender = {
    action = "defender.resolve_alert", where = "Microsoft Defender XDR", what = "alert", as = "classification",
    closed_there = "closed_in_defender",
    params = function(inc, comment)
      local true_positive = inc.resolution == "true_positive"
      return { alert = inc.source_ref, classification = DEFENDER[inc.resolution] or DEFENDER.undetermined,
               determination = true_positive and DETERMINATION[inc.type] or nil, comment = comment }
    end,
  },
  crowdstrike = {
    action = "crowdstrike.close_alert", where = "CrowdStrike Falcon", what = "alert", as = "resolution",
    closed_there = "closed_in_falcon",
    params = function(inc, comment)
      return { alert = inc.source_ref, resolution = inc.resolution or "undetermined", comment = comment }
    end,
  },
}

-- The tickets an incident's playbooks opened, closed with it whatever its source: the action that
-- opened one, the one that closes it, and the key of the ticket in the opening action's result.
local JIRA = { opened_by = "jira.create_issue", action = "jira.close_issue", where = "Jira", what = "issue" }

local writeback = {}

--- The open incidents other than `inc` that stand for the same source object, by id.
local function others_open(inc)
  local ids = {}
  local found = incidents.find{ source = inc.source, source_ref = inc.source_ref,
                                status = { "new", "active", "pending" }, limit = 100 }
  for _, other in ipairs(found) do
    if other.id ~= inc.id then ids[#ids + 1] = other.id end
  end
  return ids
end

--- The keys of the Jira issues `inc` opened that no close_issue of it closed since, oldest first.
local function issues_opened(inc)
  local keys, closed = {}, {}
  local history = actions.history(inc)
  -- Newest first: read from the oldest, so that a close counts only for an issue opened before it.
  for i = #history, 1, -1 do
    local action = history[i]
    local result = type(action.result) == "table" and action.result or {}
    if action.name == JIRA.opened_by and action.status == "done" and result.key and not has(keys, result.key) then
      keys[#keys + 1] = result.key
    elseif action.name == JIRA.action and action.status == "done" then
      closed[action.params.issue] = true
    end
  end
  local open = {}
  for _, key in ipairs(keys) do
    if not closed[key] then open[#open + 1] = key end
  end
  return open
end

--- Runs `name` with `params` on `inc` for `target` (its name for people), and says how it went:
--- the action, or nil; and the sentence for the journal, in which `done` says what was done.
local function close_one(inc, name, params, target, done)
  local action, why = respond.act(name, params, inc)
  if not action then return nil, ("%s not closed: %s."):format(target, tostring(why)) end
  if type(action.result) == "table" and action.result.closed_before then
    return action, ("%s was closed there already, and is left as it was (%s)."):format(target, respond.label(action))
  end
  return action, ("Closed %s too%s (%s)."):format(target, done or "", respond.label(action))
end

--- Closes the source of the closed incident `inc`: the action, or nil; and a sentence, or nil
--- when there is nothing to close (see writeback.closed).
local function close_source(inc, comment)
  local source = SOURCES[inc.source]
  if not source or not inc.source_ref or has(inc.labels, source.closed_there) then return nil end
  if not actions.available(source.action) then return nil end
  local target = ("%s %s %s"):format(source.where, source.what, inc.source_ref)
  local others = others_open(inc)
  if #others > 0 then
    return nil, ("%s stays open: %s still stands for it here, and the last of them to close closes it.")
      :format(target, table.concat(others, ", "))
  end
  local params = source.params(inc, comment)
  return close_one(inc, source.action, params, target, ", as " .. params[source.as])
end

--- Closes what the closed incident `inc` stands for elsewhere, through respond.act (so each action
--- is recorded and journaled, and undone as any other): its source, then the Jira issues it
--- opened. Returns the actions done, and the sentences for the incident's journal as one note:
--- what was closed where, what was not and why (another incident here still stands for the
--- source, the service refused, an approver said no). The note is nil when there is nothing to
--- close: the incident came from elsewhere and opened no issue, came closed from its source, or the
--- integrations are not set up.
function writeback.closed(inc)
  if inc.status ~= "closed" then error(("writeback.closed: %s is %s, not closed"):format(inc.id, inc.status), 2) end
  local comment = ("Closed in Automator as %s: %s"):format(inc.id, inc.close_reason)
  local done, said = {}, {}
  local function tell(action, sentence)
    if action then done[#done + 1] = action end
    if sentence then said[#said + 1] = sentence end
  end
  tell(close_source(inc, comment))
  if actions.available(JIRA.action) then
    for _, key in ipairs(issues_opened(inc)) do
      tell(close_one(inc, JIRA.action, { issue = key, comment = comment }, ("%s %s %s"):format(JIRA.where, JIRA.what, key)))
    end
  end
  return done, #said > 0 and table.concat(said, " ") or nil
end

return writeback
