-- Cloud credential misuse: an AWS credential used where it should not be, from Amazon GuardDuty's
-- findings (scripts/mappers/guardduty.lua makes these incidents): a console sign-in unlike the
-- user's own, an EC2 instance's credentials used outside it, API calls from an address on a
-- threat list. Says what the finding means, asks the feeds about the caller's address, and stops
-- the credential in AWS once an approver agrees, where the AWS integration is set up
-- (scripts/integrations/aws.lua): a user's access key disabled, a user's temporary session denied
-- everything, a role's sessions revoked. Then tier 2 reviews in CloudTrail what the credential did
-- and rotates it; a finding they find benign has its containment lifted. Try it with:
--
--   automator run scripts/playbooks/cloud_credential_misuse.lua \
--       --incident scripts/examples/incidents/cloud_credential_misuse.json
--
-- It reads fields.finding_type, fields.user and fields.user_type (GuardDuty's IAMUser, AssumedRole,
-- Root...), fields.access_key_id, fields.api and fields.api_service (a call GuardDuty saw),
-- fields.first_seen and fields.last_seen (when), fields.remote_ip, fields.remote_city,
-- fields.remote_country and fields.account.

-- The AWS actions, each asked of an approver (high risk): cutting a credential off stops whoever
-- uses it, the owner's scripts included.
local DISABLE_KEY = "aws.disable_access_key"
local DENY_ALL = "aws.deny_all"
local REVOKE_SESSIONS = "aws.revoke_sessions"

-- What a finding means, in plain words, by the start of its type; %s is the credential's owner.
local MEANINGS = {
  { "UnauthorizedAccess:IAMUser/ConsoleLoginSuccess",
    "%s signed in to the AWS console in a way unlike their earlier sign-ins (place, network or browser):"
      .. " their password, and MFA if they have it, may be in other hands." },
  { "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
    "The temporary credentials of %s, an EC2 instance's role, were used from an address outside AWS: someone"
      .. " took them off the instance (a server-side request forgery, or a foothold on it)." },
  { "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS",
    "The temporary credentials of %s, an EC2 instance's role, were used from another AWS account: someone"
      .. " took them off the instance." },
  { "UnauthorizedAccess:IAMUser/MaliciousIPCaller",
    "The credentials of %s called the AWS API from an address on a threat list." },
}

local reputation = require("lib.reputation")
local respond = require("lib.respond")

--- The field `name` when the finding gave it as text, else nil.
local function named(inc, name)
  local value = inc.fields[name]
  return type(value) == "string" and value or nil
end

--- The finding in plain words, for the note and tier 2.
local function meaning(inc, owner)
  local finding_type = named(inc, "finding_type") or ""
  for _, entry in ipairs(MEANINGS) do
    if finding_type:sub(1, #entry[1]) == entry[1] then return entry[2]:format(owner) end
  end
  return ("GuardDuty reports %s for %s."):format(finding_type ~= "" and finding_type or "a finding", owner)
end

--- "ConsoleLogin (signin.amazonaws.com) from 203.0.113.61 (Recife, Brazil), 2026-11-30T02:41:08Z to
--- 2026-11-30T02:58:51Z": what GuardDuty saw, as far as the finding says.
local function activity(inc)
  local api, ip = named(inc, "api"), named(inc, "remote_ip")
  local parts = {}
  for _, name in ipairs({ "remote_city", "remote_country" }) do parts[#parts + 1] = named(inc, name) end
  local place = table.concat(parts, ", ")
  local first, last = named(inc, "first_seen"), named(inc, "last_seen")
  return ("%s from %s%s, %s"):format(
    api and ("%s (%s)"):format(api, named(inc, "api_service") or "?") or "calls",
    ip or "an unknown address", place ~= "" and (" (" .. place .. ")") or "",
    first and ("%s to %s"):format(first, last or "now") or "when is not given")
end

--- Stops the credential in AWS, the way its kind allows: the action, or nil and why not.
local function contain(inc, owner, user_type, key)
  if not named(inc, "user") then return nil, "the finding names no IAM user or role" end
  if user_type == "AssumedRole" then
    return respond.act(REVOKE_SESSIONS, { role = owner }, inc)
  elseif user_type ~= "IAMUser" then
    return nil, ("the credential is of a %s, which automator does not cut off: a root user's is"
      .. " for its account's owner"):format(user_type or "principal of no given type")
  elseif key and key:sub(1, 4) == "AKIA" then
    return respond.act(DISABLE_KEY, { user = owner, access_key_id = key }, inc)
  end
  -- A temporary key (ASIA...: a console or STS session) cannot be disabled: deny the user instead.
  return respond.act(DENY_ALL, { user = owner }, inc)
end

--- What the containment did, for the note and for tier 2.
local function contained(action, owner, key)
  if action.name == DISABLE_KEY then return ("Access key %s of %s disabled"):format(key, owner) end
  if action.name == DENY_ALL then return ("%s denied every action (inline policy automator-quarantine)"):format(owner) end
  return ("The sessions of role %s issued until now revoked"):format(owner)
end

return playbook {
  name = "Cloud credential misuse",
  match = { type = "cloud_credential_misuse" },
  -- A stolen key is used within minutes of its theft, and an intruder makes new ones.
  sla = "4h",

  run = function(inc)
    -- The mapper gives samples another type; one opened by hand as this type still acts on nothing.
    for _, label in ipairs(inc.labels) do
      if label == "sample" then
        inc:note("A sample finding: its user and key are made up, and nothing is done.")
        -- Benign, as alert_triage closes samples: a test, not a wrong detection.
        inc:close{ reason = "Sample finding: nothing to do.", resolution = "benign" }
        return
      end
    end

    local owner, user_type, key = named(inc, "user") or "an unnamed principal", named(inc, "user_type"),
      named(inc, "access_key_id")
    inc:note(("%s\n%s, key %s in account %s: %s."):format(meaning(inc, owner), owner, key or "not given",
      named(inc, "account") or "?", activity(inc)))

    local ip = named(inc, "remote_ip")
    if ip and reputation.noted(inc, ip) == "malicious" then inc:raise("high", ip .. " is known malicious") end

    local action, why = contain(inc, owner, user_type, key)
    local state
    if action then
      state = contained(action, owner, key)
      inc:note(("%s (%s)."):format(state, respond.label(action)))
    else
      inc:note("The credential was not cut off automatically: " .. tostring(why) .. ".")
    end

    local lift = action and action.name ~= REVOKE_SESSIONS
    local role = user_type == "AssumedRole"
    -- A role's credentials are the instance's to fetch again: what must change is how they left it.
    local rotate = role and "find how the credentials left the instance (require IMDSv2; look for a server-side"
        .. " request forgery in what runs there)"
      or ("rotate: a new key for whoever uses this one, then delete %s; reset the password and MFA if the console"
        .. " was used"):format(key or "the key")
    local review = inc:task{
      title = ("Review in CloudTrail what %s did, and rotate its credentials"):format(owner),
      owner = "tier2",
      due = "4h",
      description = ("%s\n%s. Look in CloudTrail (Event history, or CloudTrail Lake for more than 90 days)"
        .. " for the events of %s%s from %s on: what it read, changed or created, new access keys, users,"
        .. " roles or policies above all. If it was not its owner, %s, and undo what the intruder made."
        .. " Answer \"benign\" if its owner did it.%s"):format(
        meaning(inc, owner),
        action and state or ("Nothing was cut off: " .. tostring(why) .. ". Cut it off first"),
        key and ("access key " .. key) or owner, key and (" (%s %s)"):format(role and "role" or "user", owner) or "",
        named(inc, "first_seen") or "the finding's time", rotate,
        lift and " Automator lifts its containment if it was benign." or ""),
      choices = { "rotated", "benign" },
    }
    local answer = review:wait()
    if answer == "benign" then
      if lift then
        respond.undo(inc, action, {
          title = "Lift the containment of " .. owner,
          owner = "tier2",
          due = "1h",
          description = ("%s was its owner, but lifting %s failed"):format(owner, action.id),
        })
      end
      inc:close{ reason = ("Benign: %s's own activity."):format(owner), resolution = "benign" }
      return
    end
    if action and action.name == DENY_ALL then
      -- Sessions made before the rotation work until they expire (an IAM user's, up to 36 hours): the
      -- deny stays.
      inc:note(("%s stays until someone lifts it (automator action undo %s), once the sessions made before the"
        .. " rotation have expired."):format(state, action.id))
    end
    inc:close{ reason = ("Credential misuse: %s's credentials rotated, CloudTrail reviewed."):format(owner),
      resolution = "true_positive" }
  end,
}
