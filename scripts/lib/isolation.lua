-- A host cut off the network while people clean it: by the EDR where it can (its containment lifted
-- once the host is clean), else by tier 2. Shared by the playbooks that find an infected host
-- (playbooks/malware.lua, playbooks/c2_traffic.lua).

local respond = require("lib.respond")

local isolation = {}

--- Cuts `host` (at `address`, when known) off the network: the EDR's containment `name` with
--- `params`, or, when there are no params or it is not done, tier 2's isolation, which this waits
--- for. `why` says why the EDR was not asked when `params` is nil. Returns the EDR's containment
--- (for isolation.clean) and whether the host is cut off at all.
function isolation.cut_off(inc, host, address, name, params, why)
  local containment
  if params then containment, why = respond.act(name, params, inc) end
  if containment then
    inc:note(("Host %s contained by the EDR (%s)."):format(host, respond.label(containment)))
    return containment, true
  end
  local isolate = inc:task{
    title = "Isolate host " .. host,
    owner = "tier2",
    due = "30m",
    description = ("Cut %s off the network with the EDR's host isolation, or at its switch port; answer"
      .. ' "not needed" if it is off the network already. Automatic containment: %s.')
      :format((address and address ~= host) and ("%s (%s)"):format(host, address) or host, why),
    choices = { "isolated", "not needed" },
  }
  local answer = isolate:wait()
  inc:note(("Isolation of %s: %s."):format(host, answer ~= "" and answer or "no answer"))
  return nil, answer == "isolated"
end

--- Tier 2 cleans `host`: `task` (the fields of inc:task, for tier 2) told how the host gets its
--- network back, and waited for; then the EDR's `containment` (from isolation.cut_off) is lifted.
--- Returns tier 2's answer, "remediated" when they gave none.
function isolation.clean(inc, host, task, containment, isolated)
  if containment then
    task.description = task.description .. " Automator lifts the EDR's containment when this task is done."
  elseif isolated then
    task.description = task.description .. " Release the host from isolation once it is clean."
  end
  local outcome = inc:task(task):wait()
  if containment and respond.undo(inc, containment, {
    title = "Lift the containment of " .. host,
    owner = "tier2",
    due = "1h",
    description = "The host is clean, but lifting its containment failed",
  }) then
    inc:note(("Containment of %s lifted (%s)."):format(host, respond.label(containment)))
  end
  return outcome ~= "" and outcome or "remediated"
end

return isolation
