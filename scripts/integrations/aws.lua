-- AWS Identity and Access Management (IAM): disable an access key, deny an IAM user everything,
-- and revoke a role's sessions, for the credential findings of GuardDuty
-- (playbooks/cloud_credential_misuse.lua).
-- https://docs.aws.amazon.com/IAM/latest/APIReference/ (the Query API, Version 2010-05-08)
--   POST https://iam.amazonaws.com/  form: Action=UpdateAccessKey&UserName=&AccessKeyId=&Status=Inactive|Active
--                                          Action=PutUserPolicy&UserName=&PolicyName=&PolicyDocument=
--                                          Action=DeleteUserPolicy&UserName=&PolicyName=
--                                          Action=PutRolePolicy&RoleName=&PolicyName=&PolicyDocument=
--        -> 200 <UpdateAccessKeyResponse><ResponseMetadata><RequestId>...</RequestId>...
--        -> 4xx <ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>...</Message>
--                </Error><RequestId>...</RequestId></ErrorResponse>
-- Every request is signed with Signature Version 4 (lib/sigv4.lua) for region us-east-1, where
-- IAM's one endpoint is (GovCloud: endpoint https://iam.us-gov.amazonaws.com, region
-- us-gov-west-1).
--
-- Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary
-- credentials, which expire within hours: a long-term key of an IAM user made for automator suits a
-- server better), or integrations.aws.* in the configuration. That user or role needs
-- iam:UpdateAccessKey, iam:PutUserPolicy, iam:DeleteUserPolicy and iam:PutRolePolicy (see
-- docs/integrations.md). Put its own user name in actions.protected.accounts, with the
-- break-glass users: a deny-all on it would leave automator unable to lift the deny.
-- The access key id is no secret (AWS prints it in CloudTrail, and GuardDuty in its findings);
-- the secret access key and the session token are.

local sigv4 = require("lib.sigv4")
local escape = require("lib.url").escape

-- The inline policy that quarantines a user: AWS's managed AWSDenyAll, as the user's own policy,
-- so that deleting it lifts it and nothing else the user has changes. A user's policies are
-- evaluated at each request: it stops the user's keys and sessions at once.
local QUARANTINE = "automator-quarantine"
local DENY_ALL = '{"Version":"2012-10-17","Statement":[{"Sid":"AutomatorQuarantine","Effect":"Deny",'
  .. '"Action":"*","Resource":"*"}]}'

-- The role's inline policy that the console's "Revoke active sessions" writes (IAM User Guide,
-- "Revoking IAM role temporary security credentials"): sessions issued before the time are denied.
local REVOKE = "AWSRevokeOlderSessions"

-- A throttled request (400 Throttling) is tried again after 1 s, then 2 s: as the host does a 429.
local ATTEMPTS = 3

--- The XML text of the first `tag` in `xml`, its entities decoded; nil when there is none.
local function element(xml, tag)
  local text = xml:match("<" .. tag .. ">(.-)</" .. tag .. ">")
  if not text then return nil end
  local entities = { lt = "<", gt = ">", amp = "&", quot = '"', apos = "'" }
  return (text:gsub("&(%a+);", entities))
end

--- Why IAM refused `action`, worded for the person who must fix it; `code` and `message` are
--- AWS's. Names the permission, the key or the object to check.
local function refusal(config, action, code, message)
  if code == "AccessDenied" then
    return ("the integration's credentials may not do it: give the IAM user or role of access key %s the"
      .. " permission iam:%s (AWS: %s)"):format(config.access_key_id, action, message)
  elseif code == "InvalidClientTokenId" then
    return ("AWS knows no access key %s: check AWS_ACCESS_KEY_ID (integrations.aws.access_key_id), and that"
      .. " the key is active"):format(config.access_key_id)
  elseif code == "SignatureDoesNotMatch" then
    return ("AWS refused the signature (%s): check that AWS_SECRET_ACCESS_KEY is the secret of access key %s,"
      .. " and that this host's clock is right"):format(message, config.access_key_id)
  elseif code == "ExpiredToken" then
    return "the session token has expired: give fresh AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and"
      .. " AWS_SESSION_TOKEN, or a long-term key of an IAM user for automator"
  end
  return ("%s: %s"):format(code, message)
end

--- Calls the IAM Query API's `action` with `params`; returns the request id of its answer. Raises
--- "AWS IAM, ACTION: why" for an error, `no_such_entity` when IAM answers NoSuchEntity and the
--- caller takes that as done.
local function call(context, action, params, no_such_entity)
  local config = context.config
  local form = { "Action=" .. action, "Version=2010-05-08" }
  for name, value in pairs(params) do form[#form + 1] = name .. "=" .. escape(value) end
  table.sort(form)
  local body = table.concat(form, "&")
  local url = config.endpoint:gsub("/*$", "/")
  for attempt = 1, ATTEMPTS do
    local headers = sigv4.sign{
      method = "POST", url = url, body = body, region = config.region, service = "iam", time = os.time(),
      headers = { ["content-type"] = "application/x-www-form-urlencoded; charset=utf-8" },
      access_key_id = config.access_key_id, secret_access_key = config.secret_access_key,
      session_token = config.session_token,
    }
    local response = http.request{ method = "POST", url = url, headers = headers, body = body }
    if response.status == 200 then return element(response.body, "RequestId") end
    local code, message = element(response.body, "Code"), element(response.body, "Message") or ""
    if code == "NoSuchEntity" and no_such_entity then return no_such_entity end
    if code ~= "Throttling" or attempt == ATTEMPTS then
      local why = code and refusal(config, action, code, message)
        or ("answered %d: %s"):format(response.status, response.body:sub(1, 200))
      if code == "Throttling" then
        why = ("throttled %d times (%s): other callers use up the account's IAM quota; try again in a minute")
          :format(ATTEMPTS, message)
      end
      error(("AWS IAM, %s: %s"):format(action, why), 0)
    end
    time.sleep(attempt)
  end
end

--- Sets the status of `params.access_key_id`, after checking it is a key UpdateAccessKey can change.
local function set_key_status(params, context, status)
  local key = params.access_key_id
  if not key:match("^%w+$") or #key < 16 or #key > 128 then
    error(("AWS IAM: %q is no access key id (16 to 128 letters and digits, such as AKIAIOSFODNN7EXAMPLE)")
      :format(key), 0)
  end
  if key:sub(1, 4) == "ASIA" then
    error(("AWS IAM: %s is a temporary key (an STS session's or a role's), which UpdateAccessKey cannot change:"
      .. " deny the user everything (aws.deny_all), or revoke the role's sessions (aws.revoke_sessions)"):format(key), 0)
  end
  local request = call(context, "UpdateAccessKey", { UserName = params.user, AccessKeyId = key, Status = status })
  return { user = params.user, access_key_id = key, status = status, request_id = request }
end

local key = {
  user = { type = "account", required = true, description = "the IAM user the key belongs to" },
  access_key_id = { type = "string", required = true, description = "the long-term key, AKIA..." },
}
local user = { user = { type = "account", required = true, description = "the IAM user's name" } }

return integration {
  name = "AWS IAM",
  config = {
    endpoint = "https://iam.amazonaws.com",
    region = "us-east-1",
    access_key_id = { env = "AWS_ACCESS_KEY_ID", required = true },
    secret_access_key = { secret = true, env = "AWS_SECRET_ACCESS_KEY", required = true },
    session_token = { secret = true, env = "AWS_SESSION_TOKEN" },
  },
  -- IAM's control plane allows a few requests a second per account, shared with every other caller.
  rate = { per_second = 2 },
  actions = {
    disable_access_key = {
      description = "Makes the user's access key Inactive: calls signed with it fail until it is enabled",
      risk = "high", undo = "enable_access_key", params = key,
      run = function(params, context) return set_key_status(params, context, "Inactive") end,
    },
    enable_access_key = {
      description = "Makes the user's access key Active again",
      risk = "medium", params = key,
      run = function(params, context) return set_key_status(params, context, "Active") end,
    },
    -- The user's keys, sessions and console sign-in are denied everything while the policy is there;
    -- the user, its keys and its other policies stay as they were for the investigation.
    deny_all = {
      description = "Denies the IAM user every action, with an inline policy " .. QUARANTINE,
      risk = "high", undo = "allow_again", params = user,
      run = function(params, context)
        local request = call(context, "PutUserPolicy",
          { UserName = params.user, PolicyName = QUARANTINE, PolicyDocument = DENY_ALL })
        return { user = params.user, policy = QUARANTINE, request_id = request }
      end,
    },
    allow_again = {
      description = "Deletes the user's inline policy " .. QUARANTINE,
      risk = "medium", params = user,
      run = function(params, context)
        -- Deleted already (by hand, or by this very undo before a crash): nothing is left to lift.
        local request = call(context, "DeleteUserPolicy", { UserName = params.user, PolicyName = QUARANTINE },
          "already deleted")
        return { user = params.user, policy = QUARANTINE, request_id = request }
      end,
    },
    -- No undo: lifting it would let stolen sessions work again. Sessions issued after it (an
    -- instance's next credentials) are not touched.
    revoke_sessions = {
      description = "Denies every session of the role issued before now (" .. REVOKE .. ")",
      risk = "high",
      params = { role = { type = "account", required = true, description = "the IAM role's name" } },
      run = function(params, context)
        local now = os.date("!%Y-%m-%dT%H:%M:%SZ", os.time())
        local policy = ('{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],'
          .. '"Condition":{"DateLessThan":{"aws:TokenIssueTime":"%s"}}}]}'):format(now)
        local request = call(context, "PutRolePolicy", { RoleName = params.role, PolicyName = REVOKE, PolicyDocument = policy })
        return { role = params.role, issued_before = now, request_id = request }
      end,
    },
  },
}
