-- Incident severities in their order, for the mappers and playbooks that compare two:
--
--   local severities = require("lib.severities")
--   severities.at_least("high", "medium")    --> true
--   severities.of_score(72, { critical = 90, high = 70, medium = 40, low = 10 })    --> "high"

local severities = {}

local RANK = { info = 1, low = 2, medium = 3, high = 4, critical = 5 }

--- Whether severity `a` is `b` or above ("info", "low", "medium", "high", "critical").
function severities.at_least(a, b)
  return RANK[a] >= RANK[b]
end

--- Our severity for a tool's score: the most severe of `floors` whose floor the score reaches (the
--- lowest score of each, as { critical = 90, high = 70, medium = 40, low = 10 }), else "info".
function severities.of_score(score, floors)
  for _, name in ipairs({ "critical", "high", "medium", "low" }) do
    if floors[name] and score >= floors[name] then return name end
  end
  return "info"
end

--- A mapper's `is_duplicate` for a tool that sends an alert again while it goes on: the alert joins
--- the open incident unless it got more severe, which opens an incident and a run of its own, since
--- the open one was triaged at a lower severity.
function severities.no_worse(new, existing)
  return severities.at_least(existing.severity, new.severity)
end

return severities
