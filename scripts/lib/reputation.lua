-- The feeds' verdict on an indicator, noted on the incident. Shared by the playbooks that decide on
-- one address or name (playbooks/brute_force.lua, playbooks/c2_traffic.lua).

local reputation = {}

--- The verdict of the feeds and integrations on `value`, noted on the incident; nil when there is
--- no source to ask (a trial, or a command given no configuration).
function reputation.noted(inc, value)
  local asked, result = pcall(intel.reputation, value)
  if not asked then
    inc:note("Reputation not checked: " .. tostring(result))
    return nil
  end
  inc:note(("Reputation of %s: %s"):format(value, result.summary))
  return result.verdict
end

return reputation
