-- Runs when an incident misses its SLA and its playbook has no `on_sla_breach`. Notes the
-- breach and labels the incident "sla-breached", so that breaches are easy to list and count;
-- a critical or high one also pages the on-call where PagerDuty is set up
-- (scripts/integrations/pagerduty.lua): the duty lead hears of it now, not in tomorrow's report.
---@type Incident
local inc = ...

local respond = require("lib.respond")

-- PagerDuty's severity for ours; the others page no one.
local PAGED = { critical = "critical", high = "error" }

-- os.date takes whole seconds.
local due = os.date("!%Y-%m-%d %H:%M UTC", math.floor(inc.sla_due))
inc:note(("SLA breached: due %s, still %s, owner %s."):format(due, inc.status, inc.owner or "none"))

inc:label("sla-breached")

if PAGED[inc.severity] then
  local page = respond.act("pagerduty.trigger", {
    summary = ("%s missed its SLA (%s, owner %s): %s"):format(inc.id, inc.severity, inc.owner or "none", inc.title),
    severity = PAGED[inc.severity],
    -- One page per incident, however often its breach is handled.
    dedup_key = inc.id .. "/sla",
  }, inc)
  -- Not paged is not noted: PagerDuty is optional, and a failed page is journaled as an action.
  if page then inc:note(("On-call paged (%s)."):format(respond.label(page))) end
end
