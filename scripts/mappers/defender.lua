-- Turns a Microsoft Defender XDR alert (Microsoft Graph's alerts_v2 resource), which
-- scripts/integrations/defender.lua fetches, into an incident for the shipped playbooks where
-- one fits: malware for scripts/playbooks/malware.lua, command and control for c2_traffic.lua,
-- password guessing for brute_force.lua, impossible travel for impossible_travel.lua, a phishing
-- e-mail for phishing.lua; any other alert a defender_alert incident for people. An alert Defender
-- has resolved says so (closed_in_source, with its classification). When its incident here is
-- closed too, it is news on that incident and opens nothing: most often the echo of our own close
-- (defender.resolve_alert, which moves the alert's lastUpdateDateTime, so the fetch reads it), or a
-- person resolving it in Defender after. With no incident here, it is a defender_alert labelled
-- closed_in_defender, which playbooks/alert_triage.lua closes at once: a malware alert resolved
-- there must not have its host contained. An update of an alert joins its open incident, whatever
-- its status; one reactivated in Defender after its incident closed here opens a new one. An alert
-- posted to POST /api/v1/ingest/defender is mapped alike:
--
--   curl -H "Authorization: Bearer $TOKEN" --data-binary @scripts/examples/alerts/defender.json \
--        http://127.0.0.1:8080/api/v1/ingest/defender
--
-- https://learn.microsoft.com/graph/api/resources/security-alert (the alert and its evidence)

local severities = require("lib.severities")
local values = require("lib.values")
local has, add, host_of, mentions, text = values.has, values.add, values.host_of, values.mentions, values.text

-- Graph's severities; `unknown` (and a future value) is for people to judge.
local SEVERITY = { informational = "info", low = "low", medium = "medium", high = "high" }

-- Categories (MITRE ATT&CK tactics, as Defender names them) of a file that runs and harms.
local MALWARE_CATEGORIES = { Malware = true, Ransomware = true }

-- What the file's evidence says Defender did to it, in the words the malware playbook reads:
-- "quarantined", "blocked" and "deleted" mean the file cannot run.
local FILE_ACTION = { prevented = "blocked", blocked = "blocked", remediated = "quarantined" }

--- The alert's evidence by kind, from each item's "@odata.type" (`#microsoft.graph.security.fileEvidence`).
local function evidence_of(alert)
  local by_kind = {}
  for _, item in ipairs(type(alert.evidence) == "table" and alert.evidence or {}) do
    local kind = type(item["@odata.type"]) == "string" and item["@odata.type"]:match("%.(%w+)Evidence$")
    if kind then
      by_kind[kind] = by_kind[kind] or {}
      table.insert(by_kind[kind], item)
    end
  end
  return by_kind
end

--- The indicators and the parties the evidence names, each list without repeats.
local function indicators(by_kind)
  local found = { hosts = {}, host_ips = {}, device_ids = {}, users = {}, ips = {}, urls = {}, files = {} }
  for _, device in ipairs(by_kind.device or {}) do
    add(found.hosts, device.deviceDnsName)
    add(found.device_ids, device.mdeDeviceId)
    for _, ip in ipairs(type(device.ipInterfaces) == "table" and device.ipInterfaces or {}) do add(found.host_ips, ip) end
  end
  for _, user in ipairs(by_kind.user or {}) do
    local account = type(user.userAccount) == "table" and user.userAccount or {}
    add(found.users, type(account.userPrincipalName) == "string" and account.userPrincipalName or account.accountName)
  end
  for _, ip in ipairs(by_kind.ip or {}) do add(found.ips, ip.ipAddress) end
  for _, url in ipairs(by_kind.url or {}) do add(found.urls, url.url) end
  for _, file in ipairs(by_kind.file or {}) do
    local details = type(file.fileDetails) == "table" and file.fileDetails or {}
    if type(details.sha256) == "string" then
      found.files[#found.files + 1] = { sha256 = details.sha256:lower(), name = details.fileName, path = details.filePath,
                                        action = FILE_ACTION[file.remediationStatus] or FILE_ACTION[file.detectionStatus]
                                          or file.detectionStatus }
    end
  end
  return found
end

--- The alert's type, for the playbook that fits it.
local function type_of(alert, by_kind, found)
  if alert.status == "resolved" then return "defender_alert" end
  if (MALWARE_CATEGORIES[alert.category] or alert.detectionSource == "antivirus") and #found.files > 0 then
    return "malware"
  end
  if alert.category == "CommandAndControl" then return "c2_traffic" end
  if mentions(alert.title, { "impossible travel", "atypical travel" }) then return "impossible_travel" end
  if alert.category == "CredentialAccess" and mentions(alert.title, { "brute force", "password spray", "password guessing" }) then
    return "brute_force"
  end
  if by_kind.analyzedMessage and mentions(alert.title, { "phish" }) then return "phishing" end
  return "defender_alert"
end

--- The text of the alert's last comment: on an alert resolved from here, the write-back's.
local function last_comment(alert)
  local comments = type(alert.comments) == "table" and alert.comments or {}
  local last = comments[#comments]
  return type(last) == "table" and text(last.comment) or nil
end

--- The first address of the evidence that is not one of the device's own: the other side.
local function other_side(found)
  for _, ip in ipairs(found.ips) do
    if not has(found.host_ips, ip) then return ip end
  end
  return nil
end

return mapper {
  map = function(alert)
    if type(alert.id) ~= "string" or type(alert.title) ~= "string" then
      error("not a Microsoft Graph alerts_v2 alert: it has no id and title", 0)
    end
    local by_kind = evidence_of(alert)
    local found = indicators(by_kind)
    local techniques = json.array({})
    for _, technique in ipairs(type(alert.mitreTechniques) == "table" and alert.mitreTechniques or {}) do
      techniques[#techniques + 1] = technique
    end
    local host, user = found.hosts[1], found.users[1]
    local resolved = alert.status == "resolved"
    local incident = {
      title = host and ("%s on %s"):format(alert.title, host) or alert.title,
      type = type_of(alert, by_kind, found),
      severity = SEVERITY[alert.severity] or "medium",
      -- An update of the alert (its status, new evidence) carries the same id: it joins the incident.
      source_ref = alert.id,
      details = ("%s\n%s"):format(type(alert.description) == "string" and alert.description or alert.title,
                                  type(alert.alertWebUrl) == "string" and alert.alertWebUrl or ""),
      labels = { "defender" },
      closed_in_source = resolved and { status = alert.status, classification = text(alert.classification),
                                        comment = last_comment(alert) } or nil,
      fields = {
        alert_id = alert.id,
        defender_incident = alert.incidentId,
        classification = resolved and text(alert.classification) or nil,
        category = alert.category,
        service_source = alert.serviceSource,
        detection_source = alert.detectionSource,
        technique = techniques[1],
        techniques = techniques,
        host = host,
        host_ip = found.host_ips[1],
        -- Defender for Endpoint's id of the device (no CrowdStrike aid: the malware playbook's
        -- containment by CrowdStrike leaves it to people).
        mde_device_id = found.device_ids[1],
        user = user,
        -- Every indicator the evidence names, so that a search by any of them finds the incident.
        hosts = #found.hosts > 0 and found.hosts or nil,
        users = #found.users > 0 and found.users or nil,
        ips = #found.ips > 0 and found.ips or nil,
        urls = #found.urls > 0 and found.urls or nil,
      },
    }
    add(incident.labels, alert.serviceSource)
    if resolved then add(incident.labels, "closed_in_defender") end
    local fields = incident.fields
    if incident.type == "malware" then
      local file = found.files[1]
      fields.sha256, fields.file_name, fields.file_path, fields.action = file.sha256, file.name, file.path, file.action
      fields.detection = alert.threatDisplayName ~= json.null and alert.threatDisplayName or alert.title
    elseif incident.type == "c2_traffic" then
      fields.remote_ip = other_side(found)
      fields.remote_domain = host_of(found.urls[1])
      -- What c2_traffic.lua names the detection by, and how sure it is: a High alert about a peer
      -- the feeds do not clear is cut off at once, a lower one goes to tier 1 first.
      fields.signature = alert.title
      fields.confidence = alert.severity == "high" and "high" or "medium"
    elseif incident.type == "brute_force" then
      -- The address the guesses came from.
      fields.src_ip = other_side(found)
    elseif incident.type == "phishing" then
      local message = by_kind.analyzedMessage[1]
      local sender = type(message.p1Sender) == "table" and message.p1Sender.emailAddress
      fields.sender = type(sender) == "string" and sender:lower() or nil
      fields.subject = message.subject
      fields.message_id = message.internetMessageId
      fields.sender_ip = message.senderIp
    end
    if #found.files > 0 then
      local hashes = {}
      for _, file in ipairs(found.files) do add(hashes, file.sha256) end
      fields.sha256s = hashes
    end
    return incident
  end,

  -- Defender updates an alert while it is worked on: the updates of a week join its incident.
  dedup_window = "7d",

  -- An update joins the open incident, unless the alert got more severe: then it opens an
  -- incident and a run of its own, as the open one was triaged at a lower severity.
  is_duplicate = severities.no_worse,
}
