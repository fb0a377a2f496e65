-- A host cut off the network while people clean it: by the EDR where it can; an EC2 instance the
-- EDR cannot reach, by AWS, in a security group with no rules (integrations/aws.lua); else by
-- tier 2. An automatic containment is lifted once the host is clean. Shared by the playbooks that
-- find an infected host (playbooks/malware.lua, playbooks/c2_traffic.lua).

local respond = require("lib.respond")

-- AWS's isolation of an EC2 instance: its network interfaces in the quarantine security group.
local QUARANTINE_INSTANCE = "aws.quarantine_instance"

local isolation = {}

--- The EC2 instance the incident names (GuardDuty's findings do: fields.instance_id and region),
--- as the params of QUARANTINE_INSTANCE; nil when it names none.
local function instance(inc)
  local id, region = inc.fields.instance_id, inc.fields.region
  if type(id) == "string" and type(region) == "string" then return { instance_id = id, region = region } end
  return nil
end

--- Cuts `host` (at `address`, when known) off the network: the EDR's containment `name` with
--- `params`; when there are no params (the EDR is not set up, or does not know the host), AWS's
--- quarantine of the EC2 instance the incident names; when neither is done, tier 2's isolation,
--- which this waits for. `why` says why the EDR was not asked when `params` is nil. Returns the
--- containment (for isolation.clean) and whether the host is cut off at all.
function isolation.cut_off(inc, host, address, name, params, why)
  local containment
  local ec2 = not params and instance(inc)
  if params then
    containment, why = respond.act(name, params, inc)
    if containment then
      inc:note(("Host %s contained by the EDR (%s)."):format(host, respond.label(containment)))
      return containment, true
    end
  elseif ec2 then
    local refused
    containment, refused = respond.act(QUARANTINE_INSTANCE, ec2, inc)
    if containment then
      -- A security group change cuts no connection its old groups tracked: say so where it is read.
      inc:note(("Instance %s (%s) quarantined in AWS: its network interfaces are in the quarantine security group"
        .. " alone (%s). Connections it had open may go on until they close: deny its subnet in a network ACL if"
        .. " they must stop now."):format(ec2.instance_id, host, respond.label(containment)))
      return containment, true
    end
    why = ("%s; AWS's quarantine of instance %s: %s"):format(why, ec2.instance_id, refused)
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
--- network back, and waited for; then the `containment` (from isolation.cut_off) is lifted.
--- Returns tier 2's answer, "remediated" when they gave none.
function isolation.clean(inc, host, task, containment, isolated)
  if containment and containment.name == QUARANTINE_INSTANCE then
    task.description = task.description .. " Automator gives the instance its own security groups back when this"
      .. " task is done."
  elseif containment then
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
