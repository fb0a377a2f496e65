-- Turns a Microsoft Sentinel incident, which scripts/integrations/sentinel.lua fetches with its
-- entities, into an incident for the shipped playbooks where one fits: command and control for
-- c2_traffic.lua, password guessing for brute_force.lua, impossible travel for
-- impossible_travel.lua, a phishing e-mail for phishing.lua, malware with its file's SHA-256 for
-- malware.lua; any other a sentinel_incident for people. An incident posted to
-- POST /api/v1/ingest/sentinel (with its entities as `entities`) is mapped alike.
--
-- An incident Sentinel has already closed says so (closed_in_source, with its classification and
-- comment). When ours is closed too, it is news on ours, and opens nothing: most often the echo of
-- our own close, which lib/writeback.lua wrote to Sentinel, or a person closing it there after.
-- With none of ours, it opens a sentinel_incident labelled closed_in_sentinel, which
-- playbooks/alert_triage.lua closes at once: the first fetch reads the last hour, and a false
-- positive closed there is not contained here.
-- An update of an incident joins the one it opened while that is open, whatever Sentinel says of
-- it since. One reopened in Sentinel after ours closed opens a new one.
--
-- https://learn.microsoft.com/rest/api/securityinsights/incidents/list (the incident)
-- https://learn.microsoft.com/rest/api/securityinsights/incidents/list-entities (its entities)

local severities = require("lib.severities")
local values = require("lib.values")
local text, object, has, add = values.text, values.object, values.has, values.add
local mentions, host_of = values.mentions, values.host_of
local internal = require("lib.addresses").internal

-- Sentinel's severities.
local SEVERITY = { Informational = "info", Low = "low", Medium = "medium", High = "high" }

--- The parties and indicators the entities name, each list without repeats.
local function indicators(entities)
  local found = { hosts = {}, users = {}, ips = {}, urls = {}, domains = {}, sha256s = {}, files = {}, mail = nil }
  for _, entity in ipairs(entities) do
    local kind, p = entity.kind, object(entity.properties)
    if kind == "Host" then
      add(found.hosts, p.hostName)
    elseif kind == "Account" then
      -- The user principal name where Sentinel knows it: what Entra ID's actions take.
      local name = text(p.accountName)
      add(found.users, name and text(p.upnSuffix) and (name .. "@" .. p.upnSuffix) or name or p.aadUserId)
    elseif kind == "Ip" then
      add(found.ips, p.address)
    elseif kind == "Url" then
      add(found.urls, p.url)
    elseif kind == "DnsResolution" then
      add(found.domains, p.domainName)
    elseif kind == "FileHash" and p.algorithm == "SHA256" and text(p.hashValue) then
      add(found.sha256s, p.hashValue:lower())
    elseif kind == "File" then
      add(found.files, p.fileName)
    elseif kind == "MailMessage" and not found.mail then
      found.mail = p
    end
  end
  return found
end

--- The first address of `ips` that is (`wanted` true) or is not (false) internal.
local function first_ip(ips, wanted)
  for _, ip in ipairs(ips) do
    if internal(ip) == wanted then return ip end
  end
  return nil
end

--- The incident's type, for the playbook that fits it.
local function type_of(p, tactics, found)
  if p.status == "Closed" then return "sentinel_incident" end
  if has(tactics, "CommandAndControl") then return "c2_traffic" end
  if mentions(p.title, { "impossible travel", "atypical travel" }) then return "impossible_travel" end
  if has(tactics, "CredentialAccess") and mentions(p.title, { "brute force", "password spray", "password guessing" }) then
    return "brute_force"
  end
  if found.mail and mentions(p.title, { "phish" }) then return "phishing" end
  if #found.sha256s > 0 and mentions(p.title, { "malware", "ransomware", "trojan", "virus" }) then return "malware" end
  return "sentinel_incident"
end

--- A list for the incident's fields: nil when empty, so that a search finds no empty list.
local function listed(list)
  return #list > 0 and list or nil
end

return mapper {
  map = function(incident)
    local p = object(incident.properties)
    if not text(incident.name) or not text(p.title) then
      error("not a Microsoft Sentinel incident: it has no name and properties.title", 0)
    end
    local extra = object(p.additionalData)
    local tactics, techniques = json.array({}), json.array({})
    for _, tactic in ipairs(object(extra.tactics)) do tactics[#tactics + 1] = tactic end
    for _, technique in ipairs(object(extra.techniques)) do techniques[#techniques + 1] = technique end
    local found = indicators(object(incident.entities))
    local host, owner = found.hosts[1], object(p.owner)
    local closed = p.status == "Closed"
    local mapped = {
      title = host and ("%s on %s"):format(p.title, host) or p.title,
      type = type_of(p, tactics, found),
      severity = SEVERITY[p.severity] or "medium",
      -- An update of the incident (its status, new alerts) carries the same name: it joins ours.
      source_ref = incident.name,
      details = ("%s\n%s"):format(text(p.description) or p.title, text(p.incidentUrl) or ""),
      labels = { "sentinel", closed and "closed_in_sentinel" or nil },
      closed_in_source = closed and { status = p.status, classification = text(p.classification),
                                      comment = text(p.classificationComment) } or nil,
      fields = {
        sentinel_incident = p.incidentNumber,
        sentinel_status = text(p.status),
        classification = text(p.classification),
        sentinel_owner = text(owner.userPrincipalName) or text(owner.assignedTo),
        products = listed(object(extra.alertProductNames)),
        tactics = tactics,
        technique = techniques[1],
        techniques = techniques,
        host = host,
        host_ip = first_ip(found.ips, true),
        user = found.users[1],
        -- Every indicator the entities name, so that a search by any of them finds the incident.
        hosts = listed(found.hosts),
        users = listed(found.users),
        ips = listed(found.ips),
        urls = listed(found.urls),
        domains = listed(found.domains),
        sha256s = listed(found.sha256s),
      },
    }
    local fields = mapped.fields
    if mapped.type == "c2_traffic" then
      fields.remote_ip = first_ip(found.ips, false)
      fields.remote_domain = found.domains[1] or host_of(found.urls[1])
      -- What c2_traffic.lua names the detection by, and how sure it is: a High incident about a
      -- peer the feeds do not clear is cut off at once, a lower one goes to tier 1 first.
      fields.signature = p.title
      fields.confidence = p.severity == "High" and "high" or "medium"
    elseif mapped.type == "brute_force" then
      -- The address the guesses came from: the first from outside, else the first named.
      fields.src_ip = first_ip(found.ips, false) or found.ips[1]
    elseif mapped.type == "phishing" then
      local mail = found.mail
      local sender = text(mail.p1Sender) or text(mail.sender)
      fields.sender = sender and sender:lower()
      fields.subject = text(mail.subject)
      fields.message_id = text(mail.internetMessageId)
      fields.sender_ip = text(mail.senderIP)
    elseif mapped.type == "malware" then
      fields.sha256, fields.file_name, fields.detection = found.sha256s[1], found.files[1], p.title
    end
    return mapped
  end,

  -- Sentinel updates an incident while it is worked on: the updates of a week join ours.
  dedup_window = "7d",

  -- An update joins the open incident, unless it got more severe: then it opens an incident and
  -- a run of its own, as the open one was triaged at a lower severity.
  is_duplicate = severities.no_worse,
}
