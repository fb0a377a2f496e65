-- Brute force: one address trying password after password on one of our hosts. Asks the feeds
-- about the address, blocks it at the firewall for a day where Check Point is set up
-- (scripts/integrations/checkpoint.lua), and has people check a sign-in that succeeded after the
-- failures. An address inside our networks is not blocked: people find what guesses from there.
-- scripts/mappers/wazuh.lua makes these incidents from Wazuh's alerts, scripts/mappers/guardduty.lua
-- from GuardDuty's findings on EC2 instances. Try it with:
--
--   automator run scripts/playbooks/brute_force.lua --incident scripts/examples/incidents/brute_force.json \
--       --config scripts/examples/automator.yml
--
-- It reads fields.src_ip, fields.host, fields.user (the account tried), fields.attempts and
-- fields.succeeded (a sign-in succeeded after the failures).

-- The firewall's block of an address: another firewall's integration goes here.
local BLOCK_ADDRESS = "checkpoint.block_ip"

-- Long enough to end this attack, short enough that an address handed to someone else next (a
-- home line, a cloud server) is not blocked for good. The block lifts itself; the journal says
-- when.
local BLOCK_FOR = "24h"

local reputation = require("lib.reputation")
local respond = require("lib.respond")
local is_private = require("lib.addresses").internal

--- The field `name` when the alert gave it as text, else nil: a number is no name.
local function named(inc, name)
  local value = inc.fields[name]
  return type(value) == "string" and value or nil
end

--- "8 failed sign-ins as deploy on web-prod-02", for notes and tasks.
local function attack(inc)
  local count = math.tointeger(inc.fields.attempts)
  local attempts = count and ("%d failed sign-ins"):format(count) or "failed sign-ins"
  local account = named(inc, "user") and (" as " .. named(inc, "user")) or ""
  return ("%s%s on %s"):format(attempts, account, named(inc, "host") or "the host")
end

--- An address of ours guessing passwords: a service left with an old password, or an intruder
--- moving from host to host. People tell which.
local function from_inside(inc, ip)
  local found = inc:task{
    title = ("Find what on %s tries passwords on %s"):format(ip, named(inc, "host") or "the host"),
    owner = "tier1",
    due = "4h",
    description = ("%s came from %s, inside our networks. Find the host and what runs there: a"
      .. " service or script with an old password, or someone who should not be there.")
      :format(attack(inc), ip),
    choices = { "an old password", "an intruder" },
  }
  if found:wait() == "an old password" then
    inc:close{ reason = ("Benign: a service on %s used an old password."):format(ip), resolution = "benign" }
    return
  end
  inc:raise("critical", ("an intruder on %s tries passwords on our hosts"):format(ip))
  local contained = inc:task{
    title = ("Contain %s and find how the intruder got in"):format(ip),
    owner = "tier2",
    due = "1h",
    description = ("Isolate %s, then look on it and on %s for what the intruder ran and left"
      .. " behind. Answer with what you found."):format(ip, named(inc, "host") or "the host"),
  }
  inc:note("Tier 2: " .. contained:wait())
  inc:close{ reason = ("Intrusion: %s contained."):format(ip), resolution = "true_positive" }
end

--- A sign-in that succeeded after the failures: the password was guessed, or its owner typed it
--- right at last. The block stands while people ask, and is lifted if it was the owner.
local function after_success(inc, ip, blocked)
  local account = named(inc, "user") or "the account"
  local host = named(inc, "host") or "the host"
  local asked = inc:task{
    title = ("Ask whether the sign-in as %s on %s was its owner"):format(account, host),
    owner = "tier1",
    due = "30m",
    description = ("After %s, a sign-in from %s succeeded. Ask the account's owner (for a service"
      .. " account, the team that runs it) whether it was theirs.%s"):format(attack(inc), ip,
      blocked and (" %s is blocked at the firewall meanwhile; Automator lifts the block if it was."):format(ip) or ""),
    choices = { "the owner", "an intruder" },
  }
  if asked:wait() == "the owner" then
    if blocked then
      respond.undo(inc, blocked, {
        title = "Unblock " .. ip .. " at the firewall",
        owner = "network-team",
        due = "1h",
        description = ("%s is the address of %s's owner, but lifting its block failed"):format(ip, account),
      })
    end
    inc:close{ reason = ("Benign: %s's owner signed in after mistyping the password."):format(account),
      resolution = "benign" }
    return
  end

  inc:raise("critical", ("an intruder signed in as %s on %s"):format(account, host))
  local contained = inc:task{
    title = ("Lock %s on %s and look for what the intruder left"):format(account, host),
    owner = "tier2",
    due = "1h",
    description = ("Lock the account and end its sessions, change its password, then look on %s"
      .. " for what it did since the sign-in from %s: new keys in authorized_keys, cron jobs,"
      .. " services, accounts. Answer with what you found."):format(host, ip),
  }
  inc:note("Tier 2: " .. contained:wait())
  inc:close{ reason = ("Account compromise: %s on %s locked and cleaned."):format(account, host),
    resolution = "true_positive" }
end

return playbook {
  name = "Brute force",
  match = { type = "brute_force" },
  -- An address that guesses passwords now is blocked now: waiting for an approver lets it go on
  -- guessing, and the block lifts by itself. A protected network is refused all the same.
  approvals = { BLOCK_ADDRESS },

  run = function(inc)
    local ip = inc.fields.src_ip
    if type(ip) ~= "string" then
      inc:note("The alert names no source address: review it by hand.")
      inc:update{ owner = "tier1" }
      return
    end
    inc:note(("%s from %s."):format(attack(inc), ip))

    -- A feed's allowlist (benign) names our own ranges and partners: no block for them either.
    local verdict = reputation.noted(inc, ip)
    if is_private(ip) or verdict == "benign" then
      from_inside(inc, ip)
      return
    end
    if verdict == "malicious" then inc:raise("high", ip .. " is known malicious") end

    local blocked, why = respond.act(BLOCK_ADDRESS, { ip = ip, reason = "brute force, " .. inc.id }, inc,
      { ttl = BLOCK_FOR })
    inc:note(blocked and ("%s blocked at the firewall for %s (%s)."):format(ip, BLOCK_FOR, respond.label(blocked))
      or ("%s not blocked at the firewall: %s."):format(ip, why))

    -- true, not merely there: a source that writes "false" as text has not said yes.
    if inc.fields.succeeded == true then
      after_success(inc, ip, blocked)
    else
      -- A true positive that failed: the attack was real, the detection right.
      inc:close{ reason = ("Brute force from %s: no sign-in succeeded%s."):format(ip,
        blocked and ", blocked for " .. BLOCK_FOR or ""), resolution = "true_positive" }
    end
  end,
}
