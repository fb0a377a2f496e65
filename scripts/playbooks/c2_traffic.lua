-- C2 traffic: a host of ours talking to malware's command and control, seen on the network by
-- Suricata, in a VPC by Amazon GuardDuty, or on the host by CrowdStrike Falcon (scripts/mappers/
-- suricata.lua, guardduty.lua and crowdstrike.lua make these incidents). Asks the feeds about the remote peer, its address and the name it was
-- reached by. A peer known to be malicious, or a rule sure of itself (confidence High) about a
-- peer the feeds do not clear, is cut off at once: its address blocked at the firewall for a week
-- where Check Point is set up (scripts/integrations/checkpoint.lua), and the host contained by
-- CrowdStrike Falcon (scripts/integrations/crowdstrike.lua) once an approver agrees (an EC2 instance
-- Falcon does not know: quarantined in AWS, scripts/lib/isolation.lua), else isolated by tier 2. Anything less sure goes to tier 1 first, with the alert kept as evidence. Then tier 2
-- finds what on the host beacons and cleans it, and the containment is lifted. Other hosts whose
-- C2 incidents of the last 30 days name the same peer make a campaign: linked, and critical. Try it
-- with:
--
--   automator run scripts/playbooks/c2_traffic.lua --incident scripts/examples/incidents/c2_traffic.json \
--       --config scripts/examples/automator.yml
--
-- It reads fields.host_ip, fields.remote_ip, fields.remote_domain (the name the peer was reached
-- by, when Suricata saw one), fields.signature, fields.signature_id, fields.category,
-- fields.confidence (the rule's: "high", "medium" or "low"), fields.malware_family, and
-- fields.device_id (the EDR's id of the host) when the alert names it, and fields.instance_id and
-- fields.region (GuardDuty's EC2 instance).

-- The firewall's block of an address, and the EDR's lookup and containment of a host: another
-- product's integration goes here.
local BLOCK_ADDRESS = "checkpoint.block_ip"
local FIND_HOST = "crowdstrike.find_host"
local CONTAIN_HOST = "crowdstrike.contain_host"

-- Long enough for tier 2 to find and remove the implant; short enough that a cloud server's
-- address, handed to someone else later, is not blocked for good. Beacons that come back after the
-- block lifted are a new alert, and a new incident blocks the address again.
local BLOCK_FOR = "7d"

local isolation = require("lib.isolation")
local reputation = require("lib.reputation")
local respond = require("lib.respond")

--- The field `name` when the alert gave it as text, else nil.
local function named(inc, name)
  local value = inc.fields[name]
  return type(value) == "string" and value or nil
end

--- "ET MALWARE Cobalt Strike Beacon (sid 2049417, Malware Command and Control Activity Detected)";
--- a GuardDuty finding names no rule: "Backdoor:EC2/C&CActivity.B (Backdoor)".
local function rule(inc)
  local sid = inc.fields.signature_id
  return ("%s (%s%s)"):format(named(inc, "signature") or "a rule",
    sid and ("sid %s, "):format(tostring(sid)) or "", named(inc, "category") or "no category")
end

--- The other hosts of ours whose C2 incidents of the last 30 days name the same peer (its address or
--- its name), linked to this one: one host beaconing is an infection, several are a campaign. Says
--- so, raises this one to critical and returns "WS-FIN-0007 (INC-3, new), ..." for tier 2, or nil.
local function campaign(inc, host_ip, peer, remote_ip, domain)
  local hosts, listed = {}, {}
  for _, name in pairs({ remote_ip, domain }) do -- either may be nil
    for _, other in ipairs(incidents.find{ indicator = name, type = "c2_traffic", since = "30d", limit = 50 }) do
      local host = other.fields.host_ip
      if other.id ~= inc.id and type(host) == "string" and host ~= host_ip and not listed[host] then
        listed[host] = true
        inc:link(other)
        hosts[#hosts + 1] = ("%s (%s, %s)"):format(other.fields.host or host, other.id, other.status)
      end
    end
  end
  if #hosts == 0 then return nil end
  local list = table.concat(hosts, ", ")
  inc:note(("Other hosts talked to %s in the last 30 days, now linked: %s."):format(peer, list))
  inc:raise("critical", ("%d other host%s talked to the same peer"):format(#hosts, #hosts > 1 and "s" or ""))
  return list
end

--- Tier 1 says whether the traffic is C2, with the alert and why nothing was done yet: true, or
--- false once the incident is closed as a false positive.
local function confirmed_by_tier1(inc, host_ip, peer, why, alert)
  local review = inc:task{
    title = ("Review the C2 alert: %s to %s"):format(host_ip, peer),
    owner = "tier1",
    due = "4h",
    description = ("%s matched traffic from %s to %s. Nothing was blocked or contained: %s. Look at"
      .. " the host's traffic to %s around the alert%s and answer whether it is C2.")
      :format(rule(inc), host_ip, peer, why, peer, alert and (" (the alert is evidence %s)"):format(alert.id) or ""),
    choices = { "C2", "false positive" },
  }
  if review:wait() == "false positive" then
    inc:close{ reason = ("False positive: %s, from %s to %s."):format(rule(inc), host_ip, peer),
      resolution = "false_positive" }
    return false
  end
  inc:raise("high", "tier 1 confirmed the C2 traffic")
  return true
end

--- Blocks `remote_ip` at the firewall, for BLOCK_FOR: the action, or nil and why not, noted.
local function block(inc, host_ip, remote_ip, verdict)
  if not remote_ip then
    inc:note("No address blocked at the firewall: the alert is a DNS lookup, whose peer is a name. Block the"
      .. " name at the resolver or the proxy.")
    return nil
  end
  local blocked, why
  if verdict == "benign" then
    why = "the feeds call it benign, a shared address (a CDN's, a partner's) where blocking hurts others"
  else
    blocked, why = respond.act(BLOCK_ADDRESS, { ip = remote_ip, reason = ("C2 of %s, %s"):format(host_ip, inc.id) },
      inc, { ttl = BLOCK_FOR })
  end
  inc:note(blocked and ("%s blocked at the firewall for %s (%s)."):format(remote_ip, BLOCK_FOR, respond.label(blocked))
    or ("%s not blocked at the firewall: %s."):format(remote_ip, why))
  return blocked
end

--- The host at `host_ip` as the EDR knows it: its name (the address when the EDR does not know it),
--- and the params of its containment, or nil and why there are none. An alert of the EDR's own
--- (scripts/mappers/crowdstrike.lua) names its device: nothing to look up.
local function find_host(inc, host_ip)
  if inc.fields.device_id then return inc.fields.host or host_ip, { device_id = inc.fields.device_id } end
  local found, why = respond.act(FIND_HOST, { ip = host_ip }, inc)
  local device = found and type(found.result) == "table" and found.result
  if not device then
    return host_ip, nil, found and ("the lookup of its device was %s"):format(respond.label(found)) or why
  end
  local host = device.hostname or host_ip
  inc:update{ fields = { host = device.hostname, device_id = device.device_id } }
  inc:note(("%s is %s in the EDR (device %s, last seen %s)."):format(host_ip, host, device.device_id,
    tostring(device.last_seen)))
  return host, { device_id = device.device_id }
end

return playbook {
  name = "C2 traffic",
  match = { type = "c2_traffic" },
  -- A block lifts by itself and a lookup changes nothing: neither waits for an approver. Containing
  -- a host stops whoever works on it, so that one does, every time.
  approvals = { BLOCK_ADDRESS, FIND_HOST },

  run = function(inc)
    local host_ip, remote_ip, domain = named(inc, "host_ip"), named(inc, "remote_ip"), named(inc, "remote_domain")
    local peer = remote_ip or domain
    if not host_ip or not peer then
      inc:note("The alert names no host of ours or no remote peer: review it by hand.")
      inc:update{ owner = "tier1" }
      return
    end
    inc:note(("%s: %s talks to %s%s."):format(rule(inc), host_ip, peer,
      remote_ip and domain and (" (%s)"):format(domain) or ""))
    local others = campaign(inc, host_ip, peer, remote_ip, domain)
    local alert = inc.raw and inc:evidence{
      -- Suricata's or GuardDuty's: the sensor's own words, for tier 1 and the record.
      name = "alert.json", data = json.encode(inc.raw), description = "The alert that opened the incident",
    }

    local ip_verdict = remote_ip and reputation.noted(inc, remote_ip)
    local domain_verdict = domain and reputation.noted(inc, domain)
    if ip_verdict == "malicious" or domain_verdict == "malicious" then
      inc:raise("high", peer .. " is known malicious")
    else
      -- An allowlist's benign clears the peer; a rule not sure of itself needs a person's eyes.
      local cleared = (ip_verdict == "benign" and remote_ip) or (domain_verdict == "benign" and domain)
      local confidence = named(inc, "confidence")
      local why = cleared and ("the feeds call %s benign"):format(cleared)
        or ("the rule's confidence is %s and no feed calls %s malicious"):format(confidence or "not given", peer)
      if (cleared or confidence ~= "high") and not confirmed_by_tier1(inc, host_ip, peer, why, alert) then return end
    end

    local blocked = block(inc, host_ip, remote_ip, ip_verdict)
    local host, device, why = find_host(inc, host_ip)
    local containment, isolated = isolation.cut_off(inc, host, host_ip, CONTAIN_HOST, device, why)

    local outcome = isolation.clean(inc, host, {
      title = ("Find and remove what on %s talks to %s"):format(host, peer),
      owner = "tier2",
      -- Someone may be at the other end of the channel now.
      due = "4h",
      description = ("Find the process on %s that talks to %s (the EDR's network events on the host),"
        .. " how it got there and what it did, and whether other hosts talk to %s%s. Then clean or reimage %s.")
        :format(host, peer, peer, others and (" (known already: %s)"):format(others) or "", host),
      choices = { "cleaned", "reimaged" },
    }, containment, isolated)
    inc:close{ reason = ("C2 traffic from %s to %s: host %s%s."):format(host, peer, outcome,
      blocked and (", %s blocked for %s"):format(remote_ip, BLOCK_FOR) or ""), resolution = "true_positive" }
  end,
}
