-- Tests of playbooks/cloud_credential_misuse.lua, on incidents mappers/guardduty.lua makes of
-- GuardDuty's findings. Run them with:
--
--   automator test scripts/playbooks/cloud_credential_misuse_test.lua

local guardduty = require("mappers.guardduty")
local misuse = require("playbooks.cloud_credential_misuse")

--- The incident of a GuardDuty finding of `finding_type` on the credential `key` (GuardDuty's
--- accessKeyDetails), seen calling `api` from 203.0.113.61, in the documented finding format (as
--- scripts/examples/alerts/guardduty.json); `title` replaces GuardDuty's.
local function incident_of(finding_type, key, api, title)
  return guardduty.map({
    ["detail-type"] = "GuardDuty Finding",
    source = "aws.guardduty",
    detail = {
      accountId = "111122223333", region = "eu-west-1", id = "c2b7e0f4a9d81e3c5f6a7b8c9d0e1f2a",
      type = finding_type, severity = 5, title = title or ("GuardDuty's title of " .. finding_type),
      resource = { resourceType = "AccessKey", accessKeyDetails = key },
      service = {
        action = { actionType = "AWS_API_CALL", awsApiCallAction = {
          api = api, serviceName = api == "ConsoleLogin" and "signin.amazonaws.com" or "s3.amazonaws.com",
          remoteIpDetails = { ipAddressV4 = "203.0.113.61", country = { countryName = "Brazil" },
                              city = { cityName = "Recife" } },
        } },
        eventFirstSeen = "2026-11-30T02:41:08Z", eventLastSeen = "2026-11-30T02:58:51Z", count = 12,
        additionalInfo = { value = "{}", type = "default" },
      },
    },
  })
end

local DEPLOY_KEY = { accessKeyId = "AKIAEXAMPLEDEPLOY001", principalId = "AIDAEXAMPLEPRINCIPAL2", userName = "deploy-bot",
                     userType = "IAMUser" }
local LISTED_CALLER = incident_of("UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom", DEPLOY_KEY, "ListBuckets")

--- An approver's yes to `action`, the action done, and tier 2's `answer` to the CloudTrail review.
local function approved(action, answer)
  stub.chat("Approve " .. action, "approve", "alice")
  stub.action(action, { status = "done" })
  stub.task("Review in CloudTrail", answer)
end

test("a user's key calling from a listed address is disabled once an approver agrees; tier 2 rotates it", function()
  stub.intel{ ["203.0.113.61"] = "malicious" }
  approved("aws.disable_access_key", "rotated")

  local result = run(misuse, LISTED_CALLER)

  expect.note(result, "The credentials of deploy-bot called the AWS API from an address on a threat list.\n"
    .. "deploy-bot, key AKIAEXAMPLEDEPLOY001 in account 111122223333: ListBuckets (s3.amazonaws.com) from"
    .. " 203.0.113.61 (Recife, Brazil), 2026-11-30T02:41:08Z to 2026-11-30T02:58:51Z.")
  expect.equal(result.incident.severity, "high", "the address is known malicious")
  local disabled = expect.action(result, "aws.disable_access_key", { user = "deploy-bot", access_key_id = "AKIAEXAMPLEDEPLOY001" })
  expect.equal(disabled.question, result.questions[1].id, "asked of an approver: a high-risk action")
  expect.note(result, "Access key AKIAEXAMPLEDEPLOY001 of deploy-bot disabled (ACT-test1).")
  local review = expect.task(result, "Review in CloudTrail what deploy-bot did")
  expect.equal(review.owner, "tier2")
  expect.contains(review.description, "Access key AKIAEXAMPLEDEPLOY001 of deploy-bot disabled. Look in CloudTrail")
  expect.contains(review.description, "for the events of access key AKIAEXAMPLEDEPLOY001 (user deploy-bot) from"
    .. " 2026-11-30T02:41:08Z on")
  expect.contains(review.description, "If it was not its owner, rotate: a new key for whoever uses this one, then delete"
    .. " AKIAEXAMPLEDEPLOY001; reset the password and MFA if the console was used, and undo what the intruder made.")
  expect.contains(review.description, "Automator lifts its containment if it was benign.")
  expect.equal(disabled.undone, nil, "a stolen key is rotated, not enabled again")
  expect.equal(result.incident.close_reason, "Credential misuse: deploy-bot's credentials rotated, CloudTrail reviewed.")
  expect.equal(result.incident.resolution, "true_positive")
end)

test("a key tier 2 finds its owner used is enabled again", function()
  stub.intel{ ["203.0.113.61"] = "unknown" }
  approved("aws.disable_access_key", "benign")
  stub.action("aws.enable_access_key", { status = "done" })

  local result = run(misuse, LISTED_CALLER)

  expect.equal(result.incident.severity, "medium")
  expect.equal(expect.action(result, "aws.disable_access_key").undone, true)
  expect.journal(result, "ACT-test1: undone by script with aws.enable_access_key")
  expect.equal(result.incident.close_reason, "Benign: deploy-bot's own activity.")
  expect.equal(result.incident.resolution, "benign")
end)

test("an approver's no leaves the key to tier 2, saying it is not cut off", function()
  stub.chat("Approve aws.disable_access_key", "deny", "bob")
  stub.task("Review in CloudTrail", "rotated")

  local result = run(misuse, LISTED_CALLER)

  expect.note(result, "The credential was not cut off automatically: denied by bob.")
  expect.contains(expect.task(result, "Review in CloudTrail").description,
    "Nothing was cut off: denied by bob. Cut it off first.")
  expect.equal(expect.task(result, "Review in CloudTrail").description:find("Automator lifts", 1, true), nil)
end)

test("a console sign-in's temporary key cannot be disabled: the user is denied everything, and it stays", function()
  approved("aws.deny_all", "rotated")

  local result = run(misuse, incident_of("UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B",
    { accessKeyId = "ASIAEXAMPLEKEY000001", principalId = "AIDAEXAMPLEPRINCIPAL1", userName = "l.moreau",
      userType = "IAMUser" }, "ConsoleLogin"))

  expect.note(result, "l.moreau signed in to the AWS console in a way unlike their earlier sign-ins")
  expect.action(result, "aws.deny_all", { user = "l.moreau" })
  expect.contains(expect.task(result, "Review in CloudTrail what l.moreau did").description,
    "l.moreau denied every action (inline policy automator-quarantine). Look in CloudTrail")
  expect.note(result, "l.moreau denied every action (inline policy automator-quarantine) (ACT-test1).")
  expect.note(result, "stays until someone lifts it (automator action undo ACT-test1), once the sessions made"
    .. " before the rotation have expired.")
  expect.equal(expect.action(result, "aws.deny_all").undone, nil)
  expect.equal(#result.actions, 1, "no attempt to disable a temporary key")
end)

test("an instance's credentials used outside AWS have the role's sessions revoked, for good", function()
  approved("aws.revoke_sessions", "benign")

  local result = run(misuse, incident_of("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
    { accessKeyId = "ASIAEXAMPLEKEY000009", principalId = "AROAEXAMPLEROLE0001:i-0a1b2c3d4e5f67890",
      userName = "web-app-role", userType = "AssumedRole" }, "GetCallerIdentity"))

  expect.note(result, "The temporary credentials of web-app-role, an EC2 instance's role, were used from an address"
    .. " outside AWS")
  expect.action(result, "aws.revoke_sessions", { role = "web-app-role" })
  expect.note(result, "The sessions of role web-app-role issued until now revoked (ACT-test1).")
  local review = expect.task(result, "Review in CloudTrail what web-app-role did").description
  expect.contains(review, "for the events of access key ASIAEXAMPLEKEY000009 (role web-app-role) from")
  expect.contains(review, "If it was not its owner, find how the credentials left the instance (require IMDSv2;")
  expect.equal(review:find("Automator lifts", 1, true), nil)
  expect.equal(expect.action(result, "aws.revoke_sessions").undone, nil, "stolen sessions stay revoked")
  expect.equal(result.incident.close_reason, "Benign: web-app-role's own activity.")
  expect.equal(result.incident.resolution, "benign")
end)

test("without the AWS integration, tier 2 gets the whole step", function()
  stub.action("aws.disable_access_key", false, "the integration aws is not set up")
  stub.task("Review in CloudTrail", "rotated")

  local result = run(misuse, LISTED_CALLER)

  expect.note(result, "The credential was not cut off automatically: the integration aws is not set up.")
  expect.contains(expect.task(result, "Review in CloudTrail").description, "Nothing was cut off: the integration aws"
    .. " is not set up. Cut it off first")
end)

test("a root user's key is left to the account's owner", function()
  stub.task("Review in CloudTrail", "rotated")

  local root = run(misuse, incident_of("UnauthorizedAccess:IAMUser/MaliciousIPCaller", { accessKeyId = "AKIAEXAMPLEROOT00001",
    principalId = "111122223333", userName = "Root", userType = "Root" }, "ListUsers"))
  expect.note(root, "not cut off automatically: the credential is of a Root, which automator does not cut off")
  expect.equal(#root.actions, 0)
end)

test("a sample finding starts no playbook, and one opened by hand as this type does nothing", function()
  local sample = incident_of("UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom", DEPLOY_KEY, "ListBuckets",
    "[SAMPLE] API ListBuckets was invoked from an IP address on a custom threat list.")
  expect.equal(sample.type, "guardduty")
  expect.equal(sample.fields.sample_type, "cloud_credential_misuse")

  sample.type = "cloud_credential_misuse"
  local result = run(misuse, sample)

  expect.note(result, "A sample finding: its user and key are made up, and nothing is done.")
  expect.equal(#result.actions, 0)
  expect.equal(#result.tasks, 0)
  expect.equal(result.incident.close_reason, "Sample finding: nothing to do.")
  expect.equal(result.incident.resolution, "benign")
end)
