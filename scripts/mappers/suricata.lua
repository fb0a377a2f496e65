-- Turns a Suricata alert, posted to POST /api/v1/ingest/suricata, into an incident: a host of ours
-- talking to malware's command and control (C2) becomes a c2_traffic incident for
-- scripts/playbooks/c2_traffic.lua; any other alert a suricata_alert incident for people. Try it
-- against a running `automator serve`:
--
--   curl -H "Authorization: Bearer $TOKEN" --data-binary @scripts/examples/alerts/suricata.json \
--        http://127.0.0.1:8080/api/v1/ingest/suricata
--
-- Suricata writes one JSON object a line to eve.json (outputs: eve-log, with `alert` among its
-- types; the alert's `metadata`, on by default, adds the http, tls and dns objects and the rule's
-- metadata this reads). A shipper posts each alert line, and no other event, here: one alert per
-- request. With Vector, on the
-- sensor (a personal token for it: `automator token add suricata`, in AUTOMATOR_TOKEN):
--
--   sources:
--     eve: { type: file, include: [/var/log/suricata/eve.json] }
--   transforms:
--     alerts:
--       type: filter
--       inputs: [eve]
--       condition: |
--         event = parse_json!(.message)
--         event.event_type == "alert"
--   sinks:
--     automator:
--       type: http
--       inputs: [alerts]
--       uri: https://automator.example.com/api/v1/ingest/suricata
--       auth: { strategy: bearer, token: "${AUTOMATOR_TOKEN}" }
--       encoding: { codec: text }       # the line as Suricata wrote it
--       batch: { max_events: 1 }
--       request: { headers: { Content-Type: application/json } }

-- Our networks, as Suricata's HOME_NET: of an alert's two addresses, the one inside them is our
-- host and the other the remote peer. Add public ranges of your own (a DMZ, a cloud VPC).
local HOME_NET = { "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7" }

-- Rule categories (classtype) of malware talking to its controller.
local C2_CATEGORIES = {
  ["A Network Trojan was detected"] = true,
  ["Malware Command and Control Activity Detected"] = true,
  ["Domain Observed Used for C2 Detected"] = true,
}

-- Emerging Threats' names for the same, on rules of another category; TROJAN is the older MALWARE.
local C2_PREFIXES = { "ET MALWARE ", "ET CNC ", "ET TROJAN ", "ETPRO MALWARE ", "ETPRO TROJAN " }

-- MITRE ATT&CK's Command and Control tactic, in a rule's metadata.
local C2_TACTIC = "TA0011"

local severities = require("lib.severities")

-- The rule writer's signature_severity, when the rule's metadata has one: closer to the threat
-- than the priority its category gives.
local SIGNATURE_SEVERITY = { Critical = "critical", Major = "high", Minor = "low", Informational = "info" }

-- Suricata's priority: 1 is the highest.
local PRIORITY_SEVERITY = { "high", "medium", "low" }

--- The bytes of an IPv4 or IPv6 address, as numbers; nil for anything else.
local function bytes(ip)
  local a, b, c, d = ip:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if a then return { tonumber(a), tonumber(b), tonumber(c), tonumber(d) } end
  local head, tail = ip:match("^([%x:]-)::([%x:]*)$")
  local function groups(text)
    local list = {}
    for group in text:gmatch("[^:]+") do list[#list + 1] = tonumber(group, 16) end
    return list
  end
  local left, right = groups(head or ip), groups(tail or "")
  local missing = 8 - #left - #right
  if missing < 0 or (not head and missing ~= 0) or (head and missing == 0) then return nil end
  local result = {}
  local function add(group)
    result[#result + 1] = group // 256
    result[#result + 1] = group % 256
  end
  for _, group in ipairs(left) do add(group) end
  for _ = 1, missing do add(0) end
  for _, group in ipairs(right) do add(group) end
  return result
end

--- HOME_NET read once: each network as its bytes and prefix length.
local home = {}
for _, network in ipairs(HOME_NET) do
  local address, length = network:match("^(.+)/(%d+)$")
  home[#home + 1] = { bytes = assert(bytes(address), network), length = tonumber(length) }
end

--- True when `ip` is in one of HOME_NET's networks.
local function ours(ip)
  local address = type(ip) == "string" and bytes(ip)
  if not address then return false end
  for _, network in ipairs(home) do
    if #network.bytes == #address then
      local whole, bits = network.length // 8, network.length % 8
      local inside = true
      for i = 1, whole do inside = inside and address[i] == network.bytes[i] end
      if inside and bits > 0 then
        inside = address[whole + 1] >> (8 - bits) == network.bytes[whole + 1] >> (8 - bits)
      end
      if inside then return true end
    end
  end
  return false
end

--- Our host's address and the remote peer's. When both or neither are in HOME_NET: in DNS, the
--- side that asked, not the resolver on port 53; else the rule's own target (Suricata's
--- alert.target, from its `target` keyword); else the source, since rules for C2 match what the
--- infected host sends.
local function sides(alert)
  local src, dest = alert.src_ip, alert.dest_ip
  local src_ours, dest_ours = ours(src), ours(dest)
  if src_ours ~= dest_ours then
    if dest_ours then return dest, src end
    return src, dest
  end
  if type(alert.dns) == "table" then
    if alert.src_port == 53 then return dest, src end
    return src, dest
  end
  local target = type(alert.alert.target) == "table" and alert.alert.target.ip
  if target == dest then return dest, src end
  return src, dest
end

--- The first value of the rule's metadata `key` ("signature_severity": ["Major"]), or nil.
local function meta(metadata, key)
  local values = type(metadata) == "table" and metadata[key]
  return type(values) == "table" and values[1] or nil
end

--- The name the remote peer was reached by: the HTTP Host, the TLS SNI, or the name looked up in
--- DNS (Suricata 7 writes dns.query as a list, 8 dns.queries, older ones dns.rrname).
local function domain(alert)
  local http, tls, dns = alert.http, alert.tls, alert.dns
  if type(http) == "table" and type(http.hostname) == "string" then return http.hostname:lower() end
  if type(tls) == "table" and type(tls.sni) == "string" then return tls.sni:lower() end
  if type(dns) ~= "table" then return nil end
  local queries = type(dns.queries) == "table" and dns.queries or dns.query
  local query = type(queries) == "table" and (queries[1] or queries) or dns
  return type(query.rrname) == "string" and query.rrname:lower() or nil
end

--- True for command-and-control traffic: by the rule's category, its name, or its ATT&CK tactic.
local function is_c2(rule)
  if C2_CATEGORIES[rule.category] or meta(rule.metadata, "mitre_tactic_id") == C2_TACTIC then return true end
  for _, prefix in ipairs(C2_PREFIXES) do
    if tostring(rule.signature):sub(1, #prefix) == prefix then return true end
  end
  return false
end

--- "potentially-bad-traffic" for "Potentially Bad Traffic": a category as a label.
local function label(category)
  return (category:lower():gsub("[^%w]+", "-"):gsub("^%-+", ""):gsub("%-+$", ""))
end

return mapper {
  map = function(alert)
    if alert.event_type ~= "alert" then
      error(('not an alert: event_type is "%s"; have the shipper post only event_type "alert"')
        :format(tostring(alert.event_type)), 0)
    end
    local rule = alert.alert
    local host_ip, remote_ip = sides(alert)
    local remote_domain = domain(alert)
    local category = type(rule.category) == "string" and rule.category or "Uncategorized"
    local confidence = meta(rule.metadata, "confidence")
    local incident = {
      title = ("%s (%s to %s)"):format(rule.signature, alert.src_ip, alert.dest_ip),
      severity = SIGNATURE_SEVERITY[meta(rule.metadata, "signature_severity")]
        or PRIORITY_SEVERITY[tonumber(rule.severity)] or "info",
      source_ref = ("%s:%s>%s"):format(rule.signature_id, alert.src_ip, alert.dest_ip),
      -- Where to find the traffic: the flow's id joins its other EVE records (http, tls, flow).
      details = ("%s %s:%s -> %s:%s %s/%s, flow %s, sensor %s"):format(alert.timestamp, alert.src_ip,
        alert.src_port or "-", alert.dest_ip, alert.dest_port or "-", alert.proto or "?", alert.app_proto or "?",
        alert.flow_id or "?", alert.host or "?"),
      labels = { "suricata" },
      fields = {
        host_ip = host_ip,
        remote_ip = remote_ip,
        remote_domain = remote_domain,
        signature = rule.signature,
        signature_id = rule.signature_id,
        category = category,
        -- The rule writer's confidence that a match is what the rule names: High, Medium, Low.
        confidence = type(confidence) == "string" and confidence:lower() or nil,
        malware_family = meta(rule.metadata, "malware_family"),
      },
    }

    if is_c2(rule) then
      incident.type = "c2_traffic"
      -- A DNS lookup's peer is the name: the other address is the resolver, no C2 server.
      if type(alert.dns) == "table" then incident.fields.remote_ip = nil end
      local peer = incident.fields.remote_ip or remote_domain or remote_ip
      incident.title = ("C2 traffic from %s to %s"):format(host_ip, peer)
      -- One host beaconing to one peer is one incident: Suricata fires at every beacon.
      incident.source_ref = ("%s>%s"):format(host_ip, peer)
      incident.labels[#incident.labels + 1] = "c2"
    else
      incident.type = "suricata_alert"
      incident.labels[#incident.labels + 1] = label(category)
    end
    return incident
  end,

  -- A host beacons for days; its incident stays open while tier 2 works on it.
  dedup_window = "7d",

  -- A repeat joins its open incident, unless it is worse: a stronger rule matching the same
  -- beacon opens an incident and a run of its own.
  is_duplicate = severities.no_worse,
}
