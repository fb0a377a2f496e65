-- Turns a Wazuh alert, posted to POST /api/v1/ingest/wazuh, into an incident: repeated failed
-- sign-ins (and failures followed by a success) become brute_force incidents for
-- scripts/playbooks/brute_force.lua; any other alert a wazuh_alert incident for people. Try it
-- against a running `automator serve`:
--
--   curl -H "Authorization: Bearer $TOKEN" --data-binary @scripts/examples/alerts/wazuh.json \
--        http://127.0.0.1:8080/api/v1/ingest/wazuh
--
-- Wazuh's integrator posts its alerts here through a custom integration. In the manager's
-- ossec.conf (a personal token for it: `automator token add wazuh`):
--
--   <integration>
--     <name>custom-automator</name>
--     <hook_url>https://automator.example.com/api/v1/ingest/wazuh</hook_url>
--     <api_key>THE TOKEN</api_key>
--     <level>10</level>
--     <alert_format>json</alert_format>
--   </integration>
--
-- and /var/ossec/integrations/custom-automator (owned by root:wazuh, mode 750), which the
-- integrator runs with the alert's file, the api_key and the hook_url:
--
--   #!/bin/sh
--   exec curl -sS --fail --max-time 10 -H "Authorization: Bearer $2" \
--        -H "Content-Type: application/json" --data-binary @"$1" "$3"

-- Rules that count failures and then see a success: the password was guessed, or its owner
-- finally typed it right. Wazuh's own is 40112; add the ids of rules of your own.
local SUCCESS_AFTER_FAILURES = { ["40112"] = true }

local severities = require("lib.severities")
local values = require("lib.values")
local has = values.has

-- Our severity for a Wazuh rule level (0 to 15), the lowest level of each: 10 is "multiple user
-- generated errors", where Wazuh's brute-force rules sit; 12 "high importance event"; 15 "severe
-- attack".
local LEVELS = { critical = 13, high = 11, medium = 7, low = 4 }

return mapper {
  map = function(alert)
    local rule, agent, data = alert.rule, alert.agent, alert.data or {}
    local level = tonumber(rule.level) or 0
    local host = agent.name or agent.id or "the manager"
    local incident = {
      title = ("%s (%s)"):format(rule.description, host),
      severity = severities.of_score(level, LEVELS),
      source_ref = alert.id,
      details = alert.full_log,
      labels = { "wazuh" },
      fields = {
        host = host,
        host_ip = agent.ip,
        rule = rule.id,
        rule_level = level,
        technique = type(rule.mitre) == "table" and rule.mitre.id and rule.mitre.id[1] or nil,
      },
    }

    local succeeded = SUCCESS_AFTER_FAILURES[tostring(rule.id)] == true
    if succeeded or has(rule.groups, "authentication_failures") then
      incident.type = "brute_force"
      incident.title = ("Brute force on %s from %s"):format(host, data.srcip or "an unknown address")
      -- One attack is one incident: Wazuh fires its rule again at every few failures, each time
      -- with a new alert id, so the reference names the attack instead.
      incident.source_ref = ("%s>%s"):format(data.srcip or "?", host)
      incident.fields.src_ip = data.srcip
      -- sshd's decoder names the account tried dstuser; Windows' and PAM's, srcuser.
      incident.fields.user = data.dstuser or data.srcuser
      incident.fields.attempts = tonumber(rule.frequency)
      incident.fields.succeeded = succeeded
    else
      incident.type = "wazuh_alert"
      for _, group in ipairs(type(rule.groups) == "table" and rule.groups or {}) do
        incident.labels[#incident.labels + 1] = group
      end
    end
    return incident
  end,

  -- An attack goes on for hours, and Wazuh fires again every few failures.
  dedup_window = "12h",

  -- A new alert of the same attack joins its open incident, unless it is worse: a success after
  -- the failures opens an incident and a run of its own.
  is_duplicate = severities.no_worse,
}
