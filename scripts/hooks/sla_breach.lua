-- Runs when an incident misses its SLA and its playbook has no `on_sla_breach`. Notes the
-- breach and labels the incident "sla-breached", so that breaches are easy to list and count.
---@type Incident
local inc = ...

-- os.date takes whole seconds.
local due = os.date("!%Y-%m-%d %H:%M UTC", math.floor(inc.sla_due))
inc:note(("SLA breached: due %s, still %s, owner %s."):format(due, inc.status, inc.owner or "none"))

-- `labels` replaces the whole list: keep the ones the incident has.
local labels = { table.unpack(inc.labels) }
for _, label in ipairs(labels) do
  if label == "sla-breached" then return end
end
labels[#labels + 1] = "sla-breached"
inc:update{ labels = labels }
