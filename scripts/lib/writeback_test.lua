-- Tests of lib/writeback.lua, through scripts/hooks/incident_closed.lua, which the test world runs
-- at every close as serve does. Run them with:
--
--   automator test scripts/lib/writeback_test.lua

local writeback = require("lib.writeback")
local sentinel = require("mappers.sentinel")
local defender = require("mappers.defender")

local SENTINEL_NAME = "73e01a99-5cd7-4139-a149-9f2736ff2ab5"
local DEFENDER_ID = "da637551227677560813_-961444813"

--- A Sentinel incident as the fetch hands it to the mapper; `status` is Sentinel's.
local function sentinel_incident(status)
  return { name = SENTINEL_NAME, properties = { title = "Rare process run by a service account", severity = "Medium",
                                                status = status or "New", incidentNumber = 3177 }, entities = {} }
end

--- A Defender alert as the fetch hands it to the mapper, of `category`.
local function defender_alert(category, evidence)
  return { id = DEFENDER_ID, title = "Suspicious execution of hidden file", severity = "medium",
           category = category or "DefenseEvasion", incidentId = "28282", evidence = evidence or {} }
end

--- The incident the mapper makes of `alert`, from `source`, as ingestion keeps it.
local function mapped(mapper, source, alert)
  local incident = mapper.map(alert)
  incident.source, incident.raw = source, alert
  return incident
end

--- Closes a new incident of `spec` with `reason` and `resolution` (nil: none, as closes before
--- resolutions were kept), which runs the shipped hooks/incident_closed.lua, and so
--- writeback.closed; returns the outcome, and what the hook noted (nil: nothing).
local function close(spec, reason, resolution)
  local result = run({ run = function(inc) inc:close{ reason = reason, resolution = resolution } end }, spec)
  return result, result.notes[#result.notes]
end

test("a Sentinel incident closes in Sentinel, classified as it was resolved, with why", function()
  stub.action("sentinel.close_incident", { status = "done", result = { status = "Closed" } })

  local result, said = close(mapped(sentinel, "sentinel", sentinel_incident()),
                             "False positive: tier 1 triaged it.", "false_positive")

  local call = expect.action(result, "sentinel.close_incident", { incident = SENTINEL_NAME,
    classification = "FalsePositive", comment = "Closed in Automator as INC-1: False positive: tier 1 triaged it." })
  expect.equal(call.params.reason, nil, "close_incident gives the reason that fits")
  expect.equal(said, ("Closed Microsoft Sentinel incident %s too, as FalsePositive (ACT-test1)."):format(SENTINEL_NAME))
end)

test("each resolution has its Sentinel classification, and none is Undetermined", function()
  local classifications = {}
  for _, resolution in ipairs({ "true_positive", "benign", "false_positive", "undetermined", false }) do
    local result = close(mapped(sentinel, "sentinel", sentinel_incident()), "Done.", resolution or nil)
    -- The test's calls so far: this close's is the last.
    classifications[#classifications + 1] = result.actions[#result.actions].params.classification
  end
  expect.equal(classifications, { "TruePositive", "BenignPositive", "FalsePositive", "Undetermined", "Undetermined" })
end)

test("a Defender alert is resolved, a true positive with what it was", function()
  local evidence = { { ["@odata.type"] = "#microsoft.graph.security.fileEvidence", detectionStatus = "detected",
                       fileDetails = { sha256 = ("ab"):rep(32), fileName = "invoice.exe" } } }

  local result, said = close(mapped(defender, "defender", defender_alert("Malware", evidence)),
                             "True positive: contained and cleaned.", "true_positive")

  expect.action(result, "defender.resolve_alert", { alert = DEFENDER_ID, classification = "truePositive",
    determination = "malware", comment = "Closed in Automator as INC-1: True positive: contained and cleaned." })
  expect.equal(said, ("Closed Microsoft Defender XDR alert %s too, as truePositive (ACT-test1, a dry run)."):format(
    DEFENDER_ID))

  local benign = close(mapped(defender, "defender", defender_alert()), "Benign: an admin's script.", "benign")
  local call = benign.actions[#benign.actions]
  expect.equal(call.params.classification, "informationalExpectedActivity")
  expect.equal(call.params.determination, nil, "what a benign alert was is for people to say")
end)

test("an incident from elsewhere, or closed in Sentinel already, is not written back, and nothing is said", function()
  local other, said = close({ source = "wazuh", source_ref = "198.51.100.9>web-prod-02" }, "Done.")
  expect.equal({ #other.actions, said }, { 0, nil })

  local closed_there, said_there = close(mapped(sentinel, "sentinel", sentinel_incident("Closed")), "Done.")
  expect.contains(closed_there.incident.labels, "closed_in_sentinel")
  expect.equal({ #closed_there.actions, said_there }, { 0, nil })
end)

test("while another open incident stands for the same Sentinel incident, it stays open there", function()
  -- The update that got more severe opened an incident of its own with the same reference.
  local worse = incident(mapped(sentinel, "sentinel", sentinel_incident()))

  local result, said = close(mapped(sentinel, "sentinel", sentinel_incident()), "Done.", "true_positive")

  expect.equal(#result.actions, 0)
  expect.equal(said, ("Microsoft Sentinel incident %s stays open: %s still stands for it here, and the last of them "
                      .. "to close closes it."):format(SENTINEL_NAME, worse.id))
end)

test("a refusal is said, for people to close it by hand", function()
  stub.action("sentinel.close_incident", { status = "failed", result = "Microsoft Sentinel, close: 403 "
    .. "AuthorizationFailed: ... (give the application the Microsoft Sentinel Responder role on the workspace)" })
  local _, said = close(mapped(sentinel, "sentinel", sentinel_incident()), "Done.")
  expect.contains(said, ("Microsoft Sentinel incident %s not closed: sentinel.close_incident failed: "):format(
    SENTINEL_NAME))
  expect.contains(said, "the Microsoft Sentinel Responder role on the workspace).")
end)

test("an incident closed in Sentinel meanwhile keeps its classification there", function()
  stub.action("sentinel.close_incident", { status = "done", result = { status = "Closed", closed_before = true } })
  local _, said = close(mapped(sentinel, "sentinel", sentinel_incident()), "Done.", "benign")
  expect.equal(said, ("Microsoft Sentinel incident %s was closed there already, and is left as it was "
                      .. "(ACT-test1)."):format(SENTINEL_NAME))
end)

test("an incident still open is a mistake of the script", function()
  run({ run = function(inc)
    local ok, problem = pcall(writeback.closed, inc)
    expect.equal(ok, false)
    expect.contains(tostring(problem), "writeback.closed: INC-1 is new, not closed")
  end }, { source = "sentinel", source_ref = SENTINEL_NAME })
end)
