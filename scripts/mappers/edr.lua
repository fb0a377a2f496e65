-- Turns an EDR detection, posted to POST /api/v1/ingest/edr, into a malware incident for
-- scripts/playbooks/malware.lua. Try it against a running `automator serve`:
--
--   curl -H "Authorization: Bearer $TOKEN" --data-binary @scripts/examples/alerts/edr.json \
--        http://127.0.0.1:8080/api/v1/ingest/edr

local severities = require("lib.severities")

-- Our severity for the EDR's score, from 0 (informational) to 100 (certain and dangerous): the
-- lowest score of each.
local SCORES = { critical = 90, high = 70, medium = 40, low = 10 }

--- The process and its ancestors, oldest first: "explorer.exe > msedge.exe > invoice.pdf.exe".
local function process_chain(process)
  local names = {}
  -- The oldest process has `"parent": null`, and `json.null` is not a table.
  while type(process) == "table" do
    table.insert(names, 1, process.name or "?")
    process = process.parent
  end
  return table.concat(names, " > ")
end

return mapper {
  map = function(alert)
    local device, file, detection = alert.device, alert.file, alert.detection
    return {
      title = ("Malware on %s: %s"):format(device.hostname, file.name),
      type = "malware",
      severity = severities.of_score(alert.score, SCORES),
      source_ref = alert.id,
      details = alert.description .. "\n" .. alert.console_url,
      labels = { "edr" },
      -- What the malware playbook reads; the hash in lower case, the form it searches for.
      fields = {
        host = device.hostname,
        host_ip = device.ip,
        -- The device's id in the EDR: CrowdStrike Falcon's aid, which contain_host takes.
        device_id = device.agent_id,
        user = alert.user.upn,
        file_name = file.name,
        file_path = file.path,
        sha256 = file.sha256:lower(),
        action = alert.action,
        detection = detection.name,
        technique = detection.technique,
        process_chain = process_chain(alert.process),
      },
    }
  end,

  -- The EDR posts a detection again, with the same id, each time its state changes.
  dedup_window = "6h",

  -- Such an update joins the open incident, unless the detection got more severe: then it
  -- opens its own incident and playbook run, as the open one was triaged at a lower severity.
  is_duplicate = severities.no_worse,
}
