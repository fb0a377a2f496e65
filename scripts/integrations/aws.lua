-- AWS Identity and Access Management (IAM): disable an access key, deny an IAM user everything,
-- and revoke a role's sessions, for the credential findings of GuardDuty
-- (playbooks/cloud_credential_misuse.lua); and Amazon EC2: quarantine an instance GuardDuty names
-- (lib/isolation.lua, for playbooks/malware.lua and c2_traffic.lua).
-- https://docs.aws.amazon.com/IAM/latest/APIReference/ (the Query API, Version 2010-05-08)
--   POST https://iam.amazonaws.com/  form: Action=UpdateAccessKey&UserName=&AccessKeyId=&Status=Inactive|Active
--                                          Action=PutUserPolicy&UserName=&PolicyName=&PolicyDocument=
--                                          Action=DeleteUserPolicy&UserName=&PolicyName=
--                                          Action=PutRolePolicy&RoleName=&PolicyName=&PolicyDocument=
--        -> 200 <UpdateAccessKeyResponse><ResponseMetadata><RequestId>...</RequestId>...
--        -> 4xx <ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>...</Message>
--                </Error><RequestId>...</RequestId></ErrorResponse>
-- https://docs.aws.amazon.com/AWSEC2/latest/APIReference/ (the Query API, Version 2016-11-15)
--   POST https://ec2.REGION.amazonaws.com/  form: Action=DescribeInstances&InstanceId.1=
--                                                 Action=DescribeSecurityGroups&Filter.1.Name=vpc-id&Filter.1.Value.1=
--                                                   &Filter.2.Name=group-name&Filter.2.Value.1=
--                                                 Action=ModifyNetworkInterfaceAttribute&NetworkInterfaceId=
--                                                   &SecurityGroupId.1=  (the new set replaces the old)
--        -> 200 <DescribeInstancesResponse><requestId>...</requestId><reservationSet><item><instancesSet>
--               <item><instanceId>, <vpcId>, <networkInterfaceSet><item><networkInterfaceId>...<groupSet>
--               <item><groupId>...
--        -> 4xx <Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code><Message>...</Message>
--               </Error></Errors><RequestID>...</RequestID></Response>
-- IAM's one endpoint is in us-east-1 (GovCloud: endpoint https://iam.us-gov.amazonaws.com, region
-- us-gov-west-1); EC2's are regional, and an instance is reached in the region of its finding.
-- Every request is signed with Signature Version 4 (lib/sigv4.lua) for that region.
--
-- Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary
-- credentials, which expire within hours: a long-term key of an IAM user made for automator suits a
-- server better), or integrations.aws.* in the configuration. That user or role needs
-- iam:UpdateAccessKey, iam:PutUserPolicy, iam:DeleteUserPolicy and iam:PutRolePolicy, and for the
-- quarantine ec2:DescribeInstances, ec2:DescribeSecurityGroups and
-- ec2:ModifyNetworkInterfaceAttribute (see docs/integrations.md). Put its own user name in
-- actions.protected.accounts, with the break-glass users: a deny-all on it would leave automator
-- unable to lift the deny.
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

-- A throttled request (IAM's 400 Throttling, EC2's 503 RequestLimitExceeded) is tried again after
-- 1 s, then 2 s: as the host does a 429.
local ATTEMPTS = 3

-- The two Query APIs: the service to sign for, the version every request names, AWS's code for
-- a throttled request, and where a request goes (IAM: one endpoint; EC2: the instance's region).
local IAM = {
  name = "AWS IAM", service = "iam", version = "2010-05-08", throttled = "Throttling",
  where = function(config) return config.endpoint, config.region end,
}
local EC2 = {
  name = "AWS EC2", service = "ec2", version = "2016-11-15", throttled = "RequestLimitExceeded",
  where = function(config, region) return (config.ec2_endpoint:gsub("{region}", region)), region end,
}

--- The XML text of the first `tag` in `xml`, its entities decoded; nil when there is none.
local function element(xml, tag)
  local text = xml:match("<" .. tag .. ">(.-)</" .. tag .. ">")
  if not text then return nil end
  local entities = { lt = "<", gt = ">", amp = "&", quot = '"', apos = "'" }
  return (text:gsub("&(%a+);", entities))
end

--- The request id of an answer: IAM writes RequestId, EC2 requestId.
local function request_id(xml)
  return element(xml, "RequestId") or element(xml, "requestId")
end

--- Why AWS refused `action` of `api`, worded for the person who must fix it; `code` and `message`
--- are AWS's. Names the permission, the key or the object to check.
local function refusal(config, api, region, action, code, message)
  if code == "AccessDenied" or code == "UnauthorizedOperation" then
    -- EC2 adds an encoded authorization message that only sts:DecodeAuthorizationMessage reads.
    return ("the integration's credentials may not do it: give the IAM user or role of access key %s the"
      .. " permission %s:%s (AWS: %s)"):format(config.access_key_id, api.service, action, message:sub(1, 300))
  elseif code == "InvalidClientTokenId" or code == "AuthFailure" then
    return ("AWS knows no access key %s: check AWS_ACCESS_KEY_ID (integrations.aws.access_key_id), and that"
      .. " the key is active"):format(config.access_key_id)
  elseif code == "SignatureDoesNotMatch" then
    return ("AWS refused the signature (%s): check that AWS_SECRET_ACCESS_KEY is the secret of access key %s,"
      .. " and that this host's clock is right"):format(message, config.access_key_id)
  elseif code == "ExpiredToken" then
    return "the session token has expired: give fresh AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and"
      .. " AWS_SESSION_TOKEN, or a long-term key of an IAM user for automator"
  elseif code:find("%.NotFound$") then
    return ("%s (%s): check the id, and that it is in region %s"):format(message, code, region)
  end
  return ("%s: %s"):format(code, message)
end

--- Calls the Query API `api`'s `action` with `params`, in `region` for EC2; returns its answer's
--- XML. Raises "AWS IAM, ACTION: why" for an error, except those whose code `tolerated` lists, for
--- which it returns nil and the code: the caller takes that one as done.
local function call(context, api, region, action, params, tolerated)
  local config = context.config
  local form = { "Action=" .. action, "Version=" .. api.version }
  for name, value in pairs(params) do form[#form + 1] = name .. "=" .. escape(value) end
  table.sort(form)
  local body = table.concat(form, "&")
  local endpoint
  endpoint, region = api.where(config, region)
  local url = endpoint:gsub("/*$", "/")
  for attempt = 1, ATTEMPTS do
    local headers = sigv4.sign{
      method = "POST", url = url, body = body, region = region, service = api.service, time = os.time(),
      headers = { ["content-type"] = "application/x-www-form-urlencoded; charset=utf-8" },
      access_key_id = config.access_key_id, secret_access_key = config.secret_access_key,
      session_token = config.session_token,
    }
    local response = http.request{ method = "POST", url = url, headers = headers, body = body }
    if response.status == 200 then return response.body end
    local code, message = element(response.body, "Code"), element(response.body, "Message") or ""
    if code and (tolerated or {})[code] then return nil, code end
    if code ~= api.throttled or attempt == ATTEMPTS then
      local why = code and refusal(config, api, region, action, code, message)
        or ("answered %d: %s"):format(response.status, response.body:sub(1, 200))
      if code == api.throttled then
        why = ("throttled %d times (%s): other callers use up the account's %s quota; try again in a minute")
          :format(ATTEMPTS, message, api.service:upper())
      end
      error(("%s, %s: %s"):format(api.name, action, why), 0)
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
  local request = request_id(call(context, IAM, nil, "UpdateAccessKey",
    { UserName = params.user, AccessKeyId = key, Status = status }))
  return { user = params.user, access_key_id = key, status = status, request_id = request }
end

--- Checks that `params` name an instance and a region as AWS writes them, before anything is sent.
local function check_instance(params)
  if not params.instance_id:match("^i%-%x+$") then
    error(("AWS EC2: %q is no instance id (i- and hexadecimal digits, such as i-0abcdef1234567890)")
      :format(params.instance_id), 0)
  end
  if not params.region:match("^%l%l%-[%l-]+%-%d+$") then
    error(("AWS EC2: %q is no region (such as eu-west-1: the finding's region field)"):format(params.region), 0)
  end
end

--- The network interfaces of the instance DescribeInstances described in `xml`, in its order, each
--- with the ids of its security groups: { { id = "eni-...", groups = { "sg-..." } } }.
local function interfaces(xml)
  local set = xml:match("<networkInterfaceSet>(.*)</networkInterfaceSet>") or ""
  -- Each interface's item starts with its networkInterfaceId (the documented order); its groups
  -- are the groupSet before the next interface's id.
  local starts = {}
  for at in set:gmatch("()<networkInterfaceId>") do starts[#starts + 1] = at end
  local found = {}
  for i, at in ipairs(starts) do
    local item = set:sub(at, (starts[i + 1] or #set + 1) - 1)
    local groups = {}
    for group in (item:match("<groupSet>(.-)</groupSet>") or ""):gmatch("<groupId>(.-)</groupId>") do
      groups[#groups + 1] = group
    end
    found[#found + 1] = { id = element(item, "networkInterfaceId"), groups = groups }
  end
  return found
end

--- The id of the quarantine security group in `vpc`: the group of that name there. A group belongs
--- to one VPC, so each VPC that has instances to quarantine holds one of the name.
local function quarantine_group(context, region, vpc)
  local name = context.config.quarantine_security_group
  local answer = call(context, EC2, region, "DescribeSecurityGroups", {
    ["Filter.1.Name"] = "vpc-id", ["Filter.1.Value.1"] = vpc,
    ["Filter.2.Name"] = "group-name", ["Filter.2.Value.1"] = name,
  })
  local group = element(answer:match("<securityGroupInfo>(.*)</securityGroupInfo>") or "", "groupId")
  if not group then
    error(("AWS EC2: %s in %s has no security group %s to quarantine instances in: create it there, with no rules"
      .. " (aws ec2 create-security-group --region %s --vpc-id %s --group-name %s --description \"automator"
      .. " quarantine\", then aws ec2 revoke-security-group-egress of its allow-all outbound rule), or name"
      .. " another in integrations.aws.quarantine_security_group"):format(vpc, region, name, region, vpc, name), 0)
  end
  return group
end

--- Whether `interface` has the quarantine `group` and no other.
local function quarantined_alone(interface, group)
  return #interface.groups == 1 and interface.groups[1] == group
end

--- Moves every network interface of the instance into the quarantine group of its VPC; returns
--- the groups each interface had, for release_instance.
local function quarantine(params, context)
  check_instance(params)
  local described = call(context, EC2, params.region, "DescribeInstances", { ["InstanceId.1"] = params.instance_id })
  local found, vpc = interfaces(described), element(described, "vpcId")
  if #found == 0 or not vpc then
    local state = described:match("<instanceState>.-<name>(.-)</name>") or "unknown"
    error(("AWS EC2: instance %s (%s) has no network interface in a VPC: there is nothing to quarantine")
      :format(params.instance_id, state), 0)
  end
  local group = quarantine_group(context, params.region, vpc)
  for _, interface in ipairs(found) do
    -- One in the quarantine group alone already (an earlier quarantine, a replay after a crash, or
    -- by hand) is left as it is: its own groups are not known here, and release_instance leaves it.
    if not quarantined_alone(interface, group) then
      call(context, EC2, params.region, "ModifyNetworkInterfaceAttribute",
        { NetworkInterfaceId = interface.id, ["SecurityGroupId.1"] = group })
    end
  end
  return { instance_id = params.instance_id, region = params.region, vpc_id = vpc, quarantine_group = group,
    interfaces = found }
end

--- Gives each interface the groups quarantine kept in `quarantined` (the action's result) back.
local function release(params, context)
  check_instance(params)
  local quarantined = context.result
  if type(quarantined) ~= "table" or type(quarantined.interfaces) ~= "table" then
    error(("AWS EC2: release_instance puts back the groups aws.quarantine_instance kept: run it as that action's"
      .. " undo (automator action undo ACT-...), or give %s's network interfaces their groups back in the EC2"
      .. " console"):format(params.instance_id), 0)
  end
  local restored, gone, left = {}, {}, {}
  for _, interface in ipairs(quarantined.interfaces) do
    if quarantined_alone(interface, quarantined.quarantine_group) then
      -- In quarantine before this action, which changed nothing there: its own groups are the
      -- earlier quarantine's to give back. Putting the quarantine group "back" would cut off again
      -- an instance that the earlier quarantine's undo has released since.
      left[#left + 1] = interface.id
    else
      local groups = { NetworkInterfaceId = interface.id }
      for i, group in ipairs(interface.groups) do groups["SecurityGroupId." .. i] = group end
      -- An interface deleted since (the instance terminated to be rebuilt) has nothing to release.
      local answer = call(context, EC2, params.region, "ModifyNetworkInterfaceAttribute", groups,
        { ["InvalidNetworkInterfaceID.NotFound"] = true })
      local list = answer and restored or gone
      list[#list + 1] = interface.id
    end
  end
  return { instance_id = params.instance_id, region = params.region, restored = restored, gone = gone,
    left_in_quarantine = #left > 0 and left or nil }
end

local instance = {
  instance_id = { type = "host", required = true, description = "the EC2 instance, i-..." },
  region = { type = "string", required = true, description = "its AWS region, as eu-west-1" },
}

local key = {
  user = { type = "account", required = true, description = "the IAM user the key belongs to" },
  access_key_id = { type = "string", required = true, description = "the long-term key, AKIA..." },
}
local user = { user = { type = "account", required = true, description = "the IAM user's name" } }

return integration {
  name = "AWS",
  config = {
    endpoint = "https://iam.amazonaws.com",
    region = "us-east-1",
    ec2_endpoint = "https://ec2.{region}.amazonaws.com",
    -- The name of the security group, in each VPC, that quarantined instances are put in.
    quarantine_security_group = "automator-quarantine",
    access_key_id = { env = "AWS_ACCESS_KEY_ID", required = true },
    secret_access_key = { secret = true, env = "AWS_SECRET_ACCESS_KEY", required = true },
    session_token = { secret = true, env = "AWS_SESSION_TOKEN" },
  },
  -- IAM's control plane allows a few requests a second per account, shared with every other caller;
  -- EC2's more, but a quarantine's few calls are no hurry either.
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
        local request = request_id(call(context, IAM, nil, "PutUserPolicy",
          { UserName = params.user, PolicyName = QUARANTINE, PolicyDocument = DENY_ALL }))
        return { user = params.user, policy = QUARANTINE, request_id = request }
      end,
    },
    allow_again = {
      description = "Deletes the user's inline policy " .. QUARANTINE,
      risk = "medium", params = user,
      run = function(params, context)
        -- Deleted already (by hand, or by this very undo before a crash): nothing is left to lift.
        local answer = call(context, IAM, nil, "DeleteUserPolicy", { UserName = params.user, PolicyName = QUARANTINE },
          { NoSuchEntity = true })
        local request = answer and request_id(answer) or "already deleted"
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
        local request = request_id(call(context, IAM, nil, "PutRolePolicy",
          { RoleName = params.role, PolicyName = REVOKE, PolicyDocument = policy }))
        return { role = params.role, issued_before = now, request_id = request }
      end,
    },
    -- AWS's incident-response isolation: every interface of the instance in a group with no rules.
    -- Connections the old groups tracked go on until they close (a security group change cuts
    -- none); a network ACL on the subnet cuts them, and is for people to weigh (docs/integrations.md).
    quarantine_instance = {
      description = "Puts every network interface of the EC2 instance in the security group "
        .. "integrations.aws.quarantine_security_group of its VPC, instead of its own groups",
      risk = "critical", undo = "release_instance", params = instance,
      run = quarantine,
    },
    release_instance = {
      description = "Gives the instance's network interfaces back the security groups quarantine_instance took",
      risk = "medium", params = instance,
      run = release,
    },
  },
}
