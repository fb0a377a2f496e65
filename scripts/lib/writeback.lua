-- Closes an incident's source when the incident closes here, so that the team does not close
-- each case twice: the Microsoft Sentinel incident (sentinel.close_incident) or the Microsoft
-- Defender XDR alert (defender.resolve_alert) its mapper made it of, classified as it was
-- resolved here. scripts/hooks/incident_closed.lua calls it on every close.
--
-- The source is the incident's `source` (the mapper: sentinel, defender) and `source_ref` (the
-- Sentinel incident's name, the Defender alert's id). Every alert that joined the incident
-- (`alert_count` above 1) carried that same reference, since an alert joins by its reference:
-- each was an update of the one Sentinel incident or Defender alert, which one action closes.
-- What this cannot close for the incident:
--   - while another incident here holds the same reference (an update that got more severe
--     opens one of its own: the mappers' is_duplicate), the source stays open: the last of them
--     to close closes it;
--   - the other alerts of the Defender incident (`fields.defender_incident`) are incidents of
--     their own here, each resolved when it closes, and the Defender incident is Defender's own
--     to resolve;
--   - an incident that came closed from Sentinel (labelled closed_in_sentinel) was closed there
--     already, with someone's classification: it is left as it is.

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

-- For each source written back to: its action, its name for people, and the action's parameters.
local SOURCES = {
  sentinel = {
    action = "sentinel.close_incident", where = "Microsoft Sentinel", what = "incident",
    params = function(inc, comment)
      return { incident = inc.source_ref, classification = SENTINEL[inc.resolution] or SENTINEL.undetermined,
               comment = comment }
    end,
  },
  defender = {
    action = "defender.resolve_alert", where = "Microsoft Defender XDR", what = "alert",
    params = function(inc, comment)
      local true_positive = inc.resolution == "true_positive"
      return { alert = inc.source_ref, classification = DEFENDER[inc.resolution] or DEFENDER.undetermined,
               determination = true_positive and DETERMINATION[inc.type] or nil, comment = comment }
    end,
  },
}

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

--- Closes the source of the closed incident `inc`, through respond.act (so the action is
--- recorded and journaled, and undone as any other). Returns the action and a sentence for the
--- incident's journal; nil and a sentence that says why it was not closed (another incident
--- here still stands for it, the service refused, an approver said no); or nothing at all when
--- there is nothing to close: the incident came from elsewhere, came closed from Sentinel, or
--- the source's integration is not set up.
function writeback.closed(inc)
  if inc.status ~= "closed" then error(("writeback.closed: %s is %s, not closed"):format(inc.id, inc.status), 2) end
  local source = SOURCES[inc.source]
  if not source or not inc.source_ref or has(inc.labels, "closed_in_sentinel") then return nil end
  if not actions.available(source.action) then return nil end
  local target = ("%s %s %s"):format(source.where, source.what, inc.source_ref)
  local others = others_open(inc)
  if #others > 0 then
    return nil, ("%s stays open: %s still stands for it here, and the last of them to close closes it.")
      :format(target, table.concat(others, ", "))
  end
  local comment = ("Closed in Automator as %s: %s"):format(inc.id, inc.close_reason)
  local params = source.params(inc, comment)
  local action, why = respond.act(source.action, params, inc)
  if not action then return nil, ("%s not closed: %s."):format(target, tostring(why)) end
  if type(action.result) == "table" and action.result.closed_before then
    return action, ("%s was closed there already, and is left as it was (%s)."):format(target, respond.label(action))
  end
  return action, ("Closed %s too, as %s (%s)."):format(target, params.classification, respond.label(action))
end

return writeback
