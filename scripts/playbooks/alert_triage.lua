-- Alert triage: an alert no other shipped playbook fits, which its mapper kept as its tool's own
-- type (defender_alert, sentinel_incident, crowdstrike_alert, splunk_alert, suricata_alert,
-- wazuh_alert, guardduty, okta_event). Without this playbook such an incident waits with no owner and no task.
-- Asks the feeds about the indicators the alert names, raises the severity when one is known
-- malicious, and gives tier 1 the alert to triage within half its SLA: "true positive" hands it
-- to tier 2, "benign" and "false positive" close it. A sample finding (GuardDuty's "Generate
-- sample findings") and an alert its tool has already closed (Sentinel's, Defender's, Falcon's)
-- are closed at once, saying why: nobody should triage those. Such an alert reaches this playbook
-- only when no incident here stands for it (the first fetch reads the last hour): one whose
-- incident here is closed, most often the echo of that close written back to the tool, is
-- journaled on that incident and opens nothing (docs/integrations.md, "Closing the source").
--
-- It reads the fields the mappers fill in: ips, remote_ip, src_ip, urls, domains, remote_domain,
-- sha256s and sha256 (the indicators), host and user (who), remediation (what the vendor says to
-- do, for tier 2: GuardDuty's findings on containers and functions), classification (the closed
-- alert's), and the labels sample, closed_in_sentinel, closed_in_defender and closed_in_falcon.

-- The classification of an alert closed in its tool (Sentinel's and Defender's API values), as a
-- resolution.
local RESOLUTIONS = {
  TruePositive = "true_positive", BenignPositive = "benign", FalsePositive = "false_positive",
  Undetermined = "undetermined",
  truePositive = "true_positive", informationalExpectedActivity = "benign", falsePositive = "false_positive",
  unknown = "undetermined",
}

-- The labels the mappers give an alert its tool has closed already.
local CLOSED_THERE = { "closed_in_sentinel", "closed_in_defender", "closed_in_falcon" }

-- Tier 1's answer, as a resolution.
local ANSWERED = { benign = "benign", ["false positive"] = "false_positive" }

-- The catch-all type of each shipped mapper, and the tool people know it by.
local TOOLS = {
  defender_alert = "Microsoft Defender XDR",
  sentinel_incident = "Microsoft Sentinel",
  crowdstrike_alert = "CrowdStrike Falcon",
  splunk_alert = "Splunk",
  suricata_alert = "Suricata",
  wazuh_alert = "Wazuh",
  guardduty = "Amazon GuardDuty",
  okta_event = "Okta",
}

-- The fields that hold indicators, a list or one value each, in the order they are asked about.
local INDICATORS = { "remote_ip", "src_ip", "ips", "remote_domain", "domains", "urls", "sha256", "sha256s" }

-- Lookups for one alert: an alert that names more has people look at the rest.
local MOST_ASKED = 10

-- Half of sla.lua's default SLA, by severity: tier 1's answer leaves tier 2 the other half.
local DUE = { critical = "30m", high = "2h", medium = "12h", low = "36h", info = "3d" }

local reputation = require("lib.reputation")
local values = require("lib.values")
local internal = require("lib.addresses").internal

--- True when the incident has the label `label`.
local function labelled(inc, label)
  return values.has(inc.labels, label)
end

--- True when the incident is an alert its tool has closed already.
local function closed_there(inc)
  for _, label in ipairs(CLOSED_THERE) do
    if labelled(inc, label) then return true end
  end
  return false
end

--- The indicators of the alert's fields, without repeats or our own addresses, at most
--- MOST_ASKED, and how many more there were.
local function indicators(inc)
  local found = {}
  for _, name in ipairs(INDICATORS) do
    local field = inc.fields[name]
    for _, value in ipairs(type(field) == "table" and field or { field }) do
      if not internal(value) then values.add(found, value) end
    end
  end
  local asked = table.move(found, 1, math.min(#found, MOST_ASKED), 1, {})
  return asked, #found - #asked
end

return playbook {
  name = "Alert triage",
  match = function(inc) return TOOLS[inc.type] ~= nil end,
  -- The tools' own playbooks come first, should a team write one for these types.
  priority = -10,

  run = function(inc)
    local tool = TOOLS[inc.type]
    if labelled(inc, "sample") then
      -- Benign, not a false positive: a test someone ran on purpose says nothing of the
      -- detection's quality, and would swell the false positives a team tunes detections by.
      inc:close{ reason = ("A sample finding of %s: its addresses are made up."):format(tool), resolution = "benign" }
      return
    end
    if closed_there(inc) then
      -- Sentinel's or Defender's classification; Falcon's alerts have none to read.
      local classification = values.text(inc.fields.classification)
      inc:close{ reason = ("Closed in %s already (%s)."):format(tool, classification or "no classification given"),
        resolution = RESOLUTIONS[classification] }
      return
    end

    local asked, left = indicators(inc)
    local malicious = {}
    for _, value in ipairs(asked) do
      if reputation.noted(inc, value) == "malicious" then malicious[#malicious + 1] = value end
    end
    if left > 0 then inc:note(("%d more indicators not asked about: see the alert's fields."):format(left)) end
    if #malicious > 0 then inc:raise("high", table.concat(malicious, ", ") .. " known malicious") end

    local who = {}
    for _, name in ipairs({ "host", "user" }) do who[#who + 1] = values.text(inc.fields[name]) end
    local triage = inc:task{
      title = ("Triage the %s alert: %s"):format(tool, inc.title),
      owner = "tier1",
      due = DUE[inc.severity],
      description = ("%s raised an alert no playbook handles%s. %s Open it in %s from the incident's details,"
        .. " and answer \"true positive\" to hand it to tier 2, or \"benign\" or \"false positive\" to close it.")
        :format(tool, #who > 0 and (" about " .. table.concat(who, ", ")) or "",
          #malicious > 0 and ("Known malicious: " .. table.concat(malicious, ", ") .. ".")
            or (#asked > 0 and "No indicator it names is known malicious." or "It names no indicator to look up."),
          tool),
      choices = { "true positive", "benign", "false positive" },
    }
    local answer = triage:wait()
    if answer == "true positive" then
      local remediation = values.text(inc.fields.remediation)
      inc:update{ owner = "tier2" }
      inc:task{
        title = ("Respond to the %s alert: %s"):format(tool, inc.title),
        owner = "tier2",
        due = DUE[inc.severity],
        description = ("Tier 1 found it a true positive: contain what it touched, and close the incident with what"
          .. " was done.%s"):format(remediation and (" %s says: %s"):format(tool, remediation) or ""),
      }
      return
    end
    inc:close{ reason = ("%s: tier 1 triaged the %s alert."):format(answer == "benign" and "Benign" or "False positive",
      tool), resolution = ANSWERED[answer] }
  end,
}
