-- Tests of lib/writeback.lua, through scripts/hooks/incident_closed.lua, which the test world runs
-- at every close as serve does. Run them with:
--
--   automator test scripts/lib/writeback_test.lua

local writeback = require("lib.writeback")
local sentinel = require("mappers.sentinel")
local defender = require("mappers.defender")
local crowdstrike = require("mappers.crowdstrike")

local SENTINEL_NAME = "73e01a99-5cd7-4139-a149-9f2736ff2ab5"
local DEFENDER_ID = "da637551227677560813_-961444813"
local FALCON_ID = "d615b8c2f4e34c0fb7a2e5d91c3f6a10:ind:5e0b8f136c244a9db7e192d4f0a3c658:4389120745-10304-18449168"

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

--- A Falcon alert as the fetch hands it to the mapper.
local function falcon_alert()
  return { composite_id = FALCON_ID, display_name = "Suspicious PowerShell", severity_name = "High",
           tactic = "Execution", technique_id = "T1059.001",
           device = { device_id = "5e0b8f136c244a9db7e192d4f0a3c658", hostname = "WS-FIN-0231" } }
end

--- The incident the mapper makes of `alert`, from `source`, as ingestion keeps it.
local function mapped(mapper, source, alert)
  local incident = mapper.map(alert)
  incident.source, incident.raw = source, alert
  return incident
end

--- Closes a new incident of `spec` with `reason` and `resolution` (nil: none, as closes before
--- resolutions were kept), which runs the shipped hooks/incident_closed.lua, and so
--- writeback.closed; returns the outcome, and what the hook noted (nil: nothing). `before(inc)`,
--- when given, is what the playbook does first (open a Jira issue).
local function close(spec, reason, resolution, before)
  local result = run({ run = function(inc)
    if before then before(inc) end
    inc:close{ reason = reason, resolution = resolution }
  end }, spec)
  return result, result.notes[#result.notes]
end

--- What a playbook does to open the Jira issue SEC-42 for `inc`.
local function opens_issue(inc)
  assert(actions.run("jira.create_issue", { summary = "Investigate " .. inc.title }, { incident = inc }))
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

test("while another open incident stands for the same Sentinel incident or Falcon alert, it stays open there", function()
  local sources = {
    { mapper = sentinel, name = "sentinel", alert = sentinel_incident, target = "Microsoft Sentinel incident " .. SENTINEL_NAME },
    { mapper = crowdstrike, name = "crowdstrike", alert = falcon_alert, target = "CrowdStrike Falcon alert " .. FALCON_ID },
  }
  for _, source in ipairs(sources) do
    -- The update that got more severe opened an incident of its own with the same reference.
    local worse = incident(mapped(source.mapper, source.name, source.alert()))

    local result, said = close(mapped(source.mapper, source.name, source.alert()), "Done.", "true_positive")

    expect.equal(#result.actions, 0)
    expect.equal(said, ("%s stays open: %s still stands for it here, and the last of them to close closes it.")
      :format(source.target, worse.id))
  end
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

test("a Falcon alert is closed, the resolution carried for its tag, with why", function()
  stub.action("crowdstrike.close_alert", { status = "done", result = { status = "closed" } })

  local result, said = close(mapped(crowdstrike, "crowdstrike", falcon_alert()),
                             "False positive: the admin's inventory script.", "false_positive")

  expect.action(result, "crowdstrike.close_alert", { alert = FALCON_ID, resolution = "false_positive",
    comment = "Closed in Automator as INC-1: False positive: the admin's inventory script." })
  expect.equal(said, ("Closed CrowdStrike Falcon alert %s too, as false_positive (ACT-test1)."):format(FALCON_ID))

  -- Each resolution is the alert's tag (automator/RESOLUTION, made by close_alert); none is undetermined.
  local resolutions = {}
  for _, resolution in ipairs({ "true_positive", "benign", "undetermined", false }) do
    local closed = close(mapped(crowdstrike, "crowdstrike", falcon_alert()), "Done.", resolution or nil)
    resolutions[#resolutions + 1] = closed.actions[#closed.actions].params.resolution
  end
  expect.equal(resolutions, { "true_positive", "benign", "undetermined", "undetermined" })
end)

test("the Jira issue an incident opened is closed with it, with why, whatever its source", function()
  stub.action("jira.create_issue", { status = "done", result = { key = "SEC-42" } })
  stub.action("jira.close_issue", { status = "done", result = { issue = "SEC-42", status = "Done" } })

  local result, said = close({ source = "wazuh", source_ref = "198.51.100.9>web-prod-02", title = "SSH brute force" },
                             "True positive: blocked at the firewall.", "true_positive", opens_issue)

  expect.action(result, "jira.close_issue", { issue = "SEC-42",
    comment = "Closed in Automator as INC-1: True positive: blocked at the firewall." })
  expect.equal(said, "Closed Jira issue SEC-42 too (ACT-test2).")
end)

test("a Falcon alert and the Jira issue its incident opened are closed together, in one note", function()
  stub.action("jira.create_issue", { status = "done", result = { key = "SEC-42" } })
  stub.action("jira.close_issue", { status = "done", result = { issue = "SEC-42", status = "Done" } })
  stub.action("crowdstrike.close_alert", { status = "done", result = { status = "closed" } })

  local result, said = close(mapped(crowdstrike, "crowdstrike", falcon_alert()), "Contained and cleaned.",
                             "true_positive", opens_issue)

  expect.equal(#result.actions, 3)
  expect.equal(said, ("Closed CrowdStrike Falcon alert %s too, as true_positive (ACT-test2). Closed Jira issue SEC-42 "
                      .. "too (ACT-test3)."):format(FALCON_ID))
end)

test("an issue someone moved to done already is left as it is, and the note says so", function()
  stub.action("jira.create_issue", { status = "done", result = { key = "SEC-42" } })
  stub.action("jira.close_issue", { status = "done", result = { issue = "SEC-42", status = "Done", closed_before = true } })

  local _, said = close({ source = "wazuh", source_ref = "198.51.100.9>web-prod-02", title = "SSH brute force" },
                        "Done.", "benign", opens_issue)

  expect.equal(said, "Jira issue SEC-42 was closed there already, and is left as it was (ACT-test2).")
end)

test("an issue a close of the incident closed already is not closed again", function()
  -- Opened and closed once (the incident was closed before, then reopened): the second close leaves it.
  stub.action("jira.create_issue", { status = "done", result = { key = "SEC-42" } })
  stub.action("jira.close_issue", { status = "done", result = { issue = "SEC-42", status = "Done" } })
  local result, said = close({ source = "wazuh", source_ref = "198.51.100.9>web-prod-02", title = "SSH brute force" },
                             "Done.", "benign", function(inc)
    opens_issue(inc)
    assert(actions.run("jira.close_issue", { issue = "SEC-42" }, { incident = inc }))
  end)
  expect.equal({ #result.actions, said }, { 2, nil })
end)

test("an issue that failed to open is not closed", function()
  stub.action("jira.create_issue", { status = "failed", result = "Jira, create issue: 400 project: valid project is required" })
  local failed, nothing = close({ source = "wazuh", source_ref = "198.51.100.9>web-prod-02", title = "SSH brute force" },
                                "Done.", "benign", function(inc)
    actions.run("jira.create_issue", { summary = "Investigate" }, { incident = inc })
  end)
  expect.equal({ #failed.actions, nothing }, { 1, nil })
end)

test("with Jira and Falcon not set up, nothing is closed and nothing said", function()
  local available = actions.available
  actions.available = function(name)
    if name:match("^jira%.") or name:match("^crowdstrike%.") then return false, "the integration is not set up" end
    return available(name)
  end
  stub.action("jira.create_issue", { status = "done", result = { key = "SEC-42" } })

  local result, said = close(mapped(crowdstrike, "crowdstrike", falcon_alert()), "Done.", "benign", opens_issue)

  actions.available = available
  expect.equal({ #result.actions, said }, { 1, nil })
end)

test("an incident still open is a mistake of the script", function()
  run({ run = function(inc)
    local ok, problem = pcall(writeback.closed, inc)
    expect.equal(ok, false)
    expect.contains(tostring(problem), "writeback.closed: INC-1 is new, not closed")
  end }, { source = "sentinel", source_ref = SENTINEL_NAME })
end)
