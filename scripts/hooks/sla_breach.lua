-- Runs when an incident misses its SLA and its playbook has no `on_sla_breach`. Notes the
-- breach and labels the incident "sla-breached", so that breaches are easy to list and count.
---@type Incident
local inc = ...

-- os.date takes whole seconds.
local due = os.date("!%Y-%m-%d %H:%M UTC", math.floor(inc.sla_due))
inc:note(("SLA breached: due %s, still %s, owner %s."):format(due, inc.status, inc.owner or "none"))

inc:label("sla-breached")
