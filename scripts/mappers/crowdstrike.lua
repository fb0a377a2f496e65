-- Turns a CrowdStrike Falcon alert (the Alerts API v2's, which scripts/integrations/crowdstrike.lua
-- fetches) into an incident for the shipped playbooks where one fits: a malicious file on a host
-- for scripts/playbooks/malware.lua, command and control for c2_traffic.lua, password guessing for
-- brute_force.lua; any other alert a crowdstrike_alert incident for people, its tactic and
-- technique as labels. The host's Falcon device id is fields.device_id, which
-- crowdstrike.contain_host takes: the playbooks contain the host by it. An alert Falcon has closed
-- says so (closed_in_source). When its incident here is closed too, it is news on that incident
-- and opens nothing: most often the echo of our own close (crowdstrike.close_alert, which Falcon
-- counts as an update that the fetch reads), or a person closing it in Falcon after. With no
-- incident here, it is a crowdstrike_alert labelled closed_in_falcon, which
-- playbooks/alert_triage.lua closes at once: a malware alert closed there must not have its host
-- contained again. An update of an alert joins its open incident, whatever its status; one
-- reopened in Falcon after its incident closed here opens a new one. An alert posted to
-- POST /api/v1/ingest/crowdstrike is mapped alike:
--
--   curl -H "Authorization: Bearer $TOKEN" --data-binary @scripts/examples/alerts/crowdstrike.json \
--        http://127.0.0.1:8080/api/v1/ingest/crowdstrike
--
-- https://falcon.crowdstrike.com/documentation (Alerts; the alert as PostEntitiesAlertsV2 gives it)

local severities = require("lib.severities")
local values = require("lib.values")
local text = values.text

-- Falcon's severity names; an alert without one is read by its severity from 1 to 100.
local SEVERITY = { Critical = "critical", High = "high", Medium = "medium", Low = "low", Informational = "info" }

-- Tactics of a file Falcon judges malicious: its machine learning's and its malware's.
local MALWARE_TACTICS = { ["Machine Learning"] = true, Malware = true }

--- The arguments that are text, in order: a list without holes.
local function texts(...)
  local found = {}
  for i = 1, select("#", ...) do found[#found + 1] = text((select(i, ...))) end
  return found
end

-- Falcon's scale of `severity`, from 1 to 100: the lowest score of each of its names.
local SCORES = { critical = 90, high = 70, medium = 50, low = 20 }

--- Our severity for the alert: its severity_name, else its severity on Falcon's scale; medium
--- when it has neither.
local function severity(alert)
  local score = tonumber(alert.severity)
  return SEVERITY[alert.severity_name] or (score and severities.of_score(score, SCORES)) or "medium"
end

--- What Falcon did to the file, in the words the malware playbook reads: "quarantined" and
--- "blocked" mean the file cannot run; a killed process's file can run again.
local function file_action(alert)
  local done = type(alert.pattern_disposition_details) == "table" and alert.pattern_disposition_details or {}
  if done.quarantine_file == true then return "quarantined" end
  if done.process_blocked == true or done.operation_blocked == true then return "blocked" end
  if done.kill_process == true then return "killed" end
  return "detected"
end

--- The other side of the alert's connections: the first remote address that is not the host's
--- own, and the first name the process asked the resolver for.
local function peer(alert, device)
  local remote_ip, domain
  for _, access in ipairs(type(alert.network_accesses) == "table" and alert.network_accesses or {}) do
    local address = text(access.remote_address)
    if address and address ~= device.local_ip and address ~= device.external_ip then
      remote_ip = address
      break
    end
  end
  for _, request in ipairs(type(alert.dns_requests) == "table" and alert.dns_requests or {}) do
    domain = text(request.domain_name)
    if domain then break end
  end
  return remote_ip, domain
end

--- The process and its ancestors, oldest first: "explorer.exe > WINWORD.EXE > powershell.exe".
local function process_chain(alert)
  local names = {}
  for _, details in ipairs({ alert.grandparent_details, alert.parent_details }) do
    if type(details) == "table" and text(details.filename) then names[#names + 1] = details.filename end
  end
  names[#names + 1] = text(alert.filename)
  return #names > 1 and table.concat(names, " > ") or nil
end

--- The alert's type, for the playbook that fits it.
local function type_of(alert, remote_ip, domain)
  if MALWARE_TACTICS[alert.tactic] and text(alert.sha256) then return "malware" end
  if (alert.tactic_id == "TA0011" or alert.tactic == "Command and Control") and (remote_ip or domain) then
    return "c2_traffic"
  end
  -- Brute Force and its sub-techniques (password spraying, T1110.003), from where they came.
  if (alert.tactic_id == "TA0006" or alert.tactic == "Credential Access") and remote_ip
     and (text(alert.technique_id) or ""):match("^T1110") then
    return "brute_force"
  end
  return "crowdstrike_alert"
end

return mapper {
  map = function(alert)
    if type(alert.composite_id) ~= "string" then
      error("not a CrowdStrike Falcon alert: it has no composite_id", 0)
    end
    local device = type(alert.device) == "table" and alert.device or {}
    local host = text(device.hostname)
    local remote_ip, domain = peer(alert, device)
    local name = text(alert.display_name) or text(alert.name) or "Falcon alert"
    local closed = alert.status == "closed"
    local incident = {
      title = host and ("%s on %s"):format(name, host) or name,
      type = closed and "crowdstrike_alert" or type_of(alert, remote_ip, domain),
      severity = severity(alert),
      -- An update of the alert (its status, a comment) carries the same composite id: it joins the incident.
      source_ref = alert.composite_id,
      details = ("%s\n%s"):format(text(alert.description) or name, text(alert.falcon_host_link) or ""),
      labels = texts("crowdstrike", alert.product, alert.tactic, alert.technique_id, closed and "closed_in_falcon" or nil),
      -- Falcon's alert says neither how it was resolved nor by whom.
      closed_in_source = closed and { status = alert.status } or nil,
      fields = {
        alert_id = alert.composite_id,
        tactic = text(alert.tactic),
        technique = text(alert.technique_id),
        technique_name = text(alert.technique),
        host = host,
        host_ip = text(device.local_ip),
        -- Falcon's id of the host (its aid), which crowdstrike.contain_host takes.
        device_id = text(device.device_id),
        platform = text(device.platform_name),
        user = text(alert.user_name),
        file_name = text(alert.filename),
        file_path = text(alert.filepath),
        sha256 = text(alert.sha256) and alert.sha256:lower(),
        command_line = text(alert.cmdline),
        process_chain = process_chain(alert),
      },
    }
    local fields = incident.fields
    if incident.type == "malware" then
      fields.action = file_action(alert)
      fields.detection = name
    elseif incident.type == "c2_traffic" then
      fields.remote_ip, fields.remote_domain = remote_ip, domain
      -- What c2_traffic.lua names the detection by, and how sure it is: a High or Critical alert
      -- about a peer the feeds do not clear is cut off at once, a lower one goes to tier 1 first.
      fields.signature = name
      fields.confidence = severities.at_least(incident.severity, "high") and "high" or "medium"
    elseif incident.type == "brute_force" then
      fields.src_ip = remote_ip
    end
    return incident
  end,

  -- Falcon updates an alert while it is worked on: the updates of a week join its incident.
  dedup_window = "7d",

  -- An update joins the open incident, unless the alert got more severe: then it opens an
  -- incident and a run of its own, as the open one was triaged at a lower severity.
  is_duplicate = severities.no_worse,
}
