-- Turns an Amazon GuardDuty finding, delivered by Amazon EventBridge to POST
-- /api/v1/ingest/guardduty, into an incident for the shipped playbooks:
--
--   UnauthorizedAccess:EC2/SSHBruteForce, RDPBruteForce   brute_force (playbooks/brute_force.lua)
--   Backdoor:EC2/C&CActivity.*, Trojan:EC2/*,
--   Backdoor:Runtime/C&CActivity.B*, Trojan:Runtime/*     c2_traffic (playbooks/c2_traffic.lua)
--   CryptoCurrency:EC2/*, CryptoCurrency:Runtime/*,
--   Impact:Runtime/CryptoMinerExecuted,
--   Execution:Runtime/ReverseShell, MaliciousFileExecuted malware (playbooks/malware.lua)
--   UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B,
--   ...IAMUser/InstanceCredentialExfiltration.*,
--   ...IAMUser/MaliciousIPCaller*                         cloud_credential_misuse
--                                                         (playbooks/cloud_credential_misuse.lua; a
--                                                         finding has one sign-in, where
--                                                         playbooks/impossible_travel.lua compares
--                                                         two, and the account is AWS's, not Entra's)
--   any other finding                                    guardduty, labelled with the finding's type
--
-- The c2_traffic and malware playbooks cut the instance off (lib/isolation.lua: the EDR's
-- containment, else aws.quarantine_instance with fields.instance_id and region). Runtime
-- Monitoring watches containers too, and Lambda Protection functions: a finding on an EKS cluster
-- (*:Kubernetes/*, or resource.eksClusterDetails and kubernetesDetails), an ECS task
-- (resource.ecsClusterDetails) or a Lambda function (*:Lambda/*, resource.lambdaDetails) names no
-- instance to contain, whatever its type. It is a guardduty incident for people, with the cluster,
-- namespace and pod, or the function, as fields and labels, and AWS's remediation steps in
-- fields.remediation, which playbooks/alert_triage.lua puts in the tasks.
--
-- Try it against a running `automator serve`:
--
--   curl -H "Authorization: Bearer $TOKEN" --data-binary @scripts/examples/alerts/guardduty.json \
--        http://127.0.0.1:8080/api/v1/ingest/guardduty
--
-- The event is EventBridge's envelope ("detail-type", "region"...) around a finding in the shape of
-- GuardDuty's API reference (Finding: type, severity, resource.instanceDetails and
-- accessKeyDetails, service.action, service.count...). EventBridge retries a post that fails, for
-- up to 24 hours, so a server that was down gets the findings it missed.
--
-- GuardDuty says which side is ours: the finding's resource (an EC2 instance, an access key) is in
-- our account, the remote address is the other side. So there is no HOME_NET here, as in
-- mappers/suricata.lua; an instance attacked from inside the VPC has a private remote address,
-- which the brute-force playbook gives to people rather than block.
--
-- Severity is GuardDuty's: Low below 4, Medium below 7, High below 9, Critical from 9 (Extended
-- Threat Detection's attack sequences). GuardDuty updates a finding in place while the activity
-- goes on (`service.count` grows) and sends it again, with the same id: within 5 minutes of its
-- creation, then at most every 6 hours by default (15 minutes or an hour in GuardDuty's settings,
-- "Frequency for updated findings"). The id is the incident's source_ref, so those updates join
-- the open incident for a week, unless one is more severe.
--
-- Setting it up, in the account GuardDuty's findings reach (the delegated administrator's, for an
-- organization):
--
-- 1. A token for EventBridge to send. EventBridge connections send an API key as a header of
--    their choosing, so a personal token works; an ingest-only one posts findings and nothing
--    else:
--
--      automator token add guardduty --ingest-only guardduty
--
-- 2. A connection, with the token as an API key in the Authorization header:
--
--      aws events create-connection --name automator --authorization-type API_KEY \
--        --auth-parameters '{"ApiKeyAuthParameters": {"ApiKeyName": "Authorization",
--                            "ApiKeyValue": "Bearer THE TOKEN"}}'
--
-- 3. An API destination on it (EventBridge posts the event as JSON, as it is: no input transformer):
--
--      aws events create-api-destination --name automator --connection-arn CONNECTION_ARN \
--        --invocation-endpoint https://automator.example.com/api/v1/ingest/guardduty \
--        --http-method POST --invocation-rate-limit-per-second 10
--
-- 4. A rule that sends it GuardDuty's findings, and the rule's target (the role lets EventBridge
--    invoke the API destination: events:InvokeApiDestination on its ARN):
--
--      aws events put-rule --name guardduty-to-automator \
--        --event-pattern '{"source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"]}'
--      aws events put-targets --rule guardduty-to-automator \
--        --targets Id=automator,Arn=API_DESTINATION_ARN,RoleArn=ROLE_ARN
--
--    To leave the low ones out, add "detail": {"severity": [{"numeric": [">=", 4]}]} to the
--    pattern. GuardDuty's "Generate sample findings" (Settings) then tries it all: a sample
--    ("[SAMPLE]" in its title) is a guardduty incident labelled sample, of info severity, with the
--    type a real one would get in fields.sample_type. It acts on nothing: playbooks/alert_triage.lua
--    closes it at once, since a sample's addresses are made up and a playbook's blocks would be real.

-- Finding types by their prefix, and the incident type each becomes: add the types of your own.
local TYPES = {
  { prefix = "UnauthorizedAccess:EC2/SSHBruteForce", type = "brute_force", protocol = "SSH" },
  { prefix = "UnauthorizedAccess:EC2/RDPBruteForce", type = "brute_force", protocol = "RDP" },
  { prefix = "Backdoor:EC2/C&CActivity.", type = "c2_traffic" },
  { prefix = "Trojan:EC2/", type = "c2_traffic" },
  { prefix = "Backdoor:Runtime/C&CActivity.B", type = "c2_traffic" },
  { prefix = "Trojan:Runtime/", type = "c2_traffic" },
  { prefix = "CryptoCurrency:EC2/", type = "malware" },
  { prefix = "CryptoCurrency:Runtime/", type = "malware" },
  { prefix = "Impact:Runtime/CryptoMinerExecuted", type = "malware" },
  -- A shell handed to someone else, or a file on the threat lists run: the instance is someone else's now.
  { prefix = "Execution:Runtime/ReverseShell", type = "malware" },
  { prefix = "Execution:Runtime/MaliciousFileExecuted", type = "malware" },
  { prefix = "UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B", type = "cloud_credential_misuse" },
  { prefix = "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.", type = "cloud_credential_misuse" },
  { prefix = "UnauthorizedAccess:IAMUser/MaliciousIPCaller", type = "cloud_credential_misuse" },
}

-- What AWS's GuardDuty User Guide says to do for a workload that is no instance ("Remediating
-- Runtime Monitoring findings", "Remediating EKS Protection findings", "Remediating a potentially
-- compromised ECS cluster", "Remediating a potentially compromised Lambda function"), for people.
local REMEDIATION = {
  eks = "Isolate the pod with a network policy that denies all ingress and egress traffic to it, cordon the"
    .. " node it runs on, and revoke the credentials of its service account and of the node's IAM role; keep"
    .. " what the investigation needs, then delete the pod and fix the workload or image that started it.",
  ecs = "Stop the task (and keep its service from starting it again), revoke the credentials of its task"
    .. " role, and find the image or the exposed service that let it in before it runs again.",
  lambda = "Identify the function version, review its code, libraries and layers, and who updated it in"
    .. " CloudTrail; disable its triggers (or set its reserved concurrency to 0), rotate its execution role's"
    .. " credentials, and deploy a clean version.",
}

local severities = require("lib.severities")
local values = require("lib.values")
local object, text = values.object, values.text

-- Our severity for GuardDuty's score, from 1 to 10: the lowest score of each (none is "info").
local SCORES = { critical = 9, high = 7, medium = 4, low = 0 }

--- The entry of TYPES that `finding_type` starts with, or nil.
local function kind(finding_type)
  for _, entry in ipairs(TYPES) do
    if finding_type:sub(1, #entry.prefix) == entry.prefix then return entry end
  end
  return nil
end

--- The instance's name (its Name tag), or its id; nil when the finding is about no instance.
local function instance_name(instance)
  for _, tag in ipairs(object(instance.tags)) do
    if tag.key == "Name" and text(tag.value) then return tag.value end
  end
  return text(instance.instanceId)
end

--- The instance's address in the connection, else its first private address.
local function instance_ip(instance, action)
  local ours = object(object(action.networkConnectionAction).localIpDetails)
  return text(ours.ipAddressV4) or text(ours.ipAddressV6)
    or text(object(object(instance.networkInterfaces)[1]).privateIpAddress)
end

--- The other side's remoteIpDetails, from whichever action the finding has.
local function remote(action)
  local details = object(action.networkConnectionAction).remoteIpDetails
    or object(action.awsApiCallAction).remoteIpDetails
    or object(action.kubernetesApiCallAction).remoteIpDetails
    or object(object(object(action.portProbeAction).portProbeDetails)[1]).remoteIpDetails
  return object(details)
end

--- True for a finding of "Generate sample findings": titled "[SAMPLE] ...", with sample true in
--- service.additionalInfo (older events) or in the JSON text of its value (newer ones).
local function is_sample(finding, service)
  local info = object(service.additionalInfo)
  return (text(finding.title) or ""):sub(1, 8) == "[SAMPLE]" or info.sample == true
    or (text(info.value) or ""):find('"sample"%s*:%s*true') ~= nil
end

--- The workload a finding is about that is no instance: "eks", "ecs" or "lambda", and its fields;
--- nil for an instance (or an access key, a bucket...). A Kubernetes finding names the workload
--- (kubernetesWorkloadDetails) or only the API user; a Runtime one on EKS names the pod.
local function workload(finding_type, resource)
  local eks, kubernetes = object(resource.eksClusterDetails), object(resource.kubernetesDetails)
  if finding_type:find(":Kubernetes/", 1, true) or resource.eksClusterDetails or resource.kubernetesDetails then
    local pod = object(kubernetes.kubernetesWorkloadDetails)
    return "eks", {
      cluster = text(eks.name), namespace = text(pod.namespace), pod = text(pod.name), workload_type = text(pod.type),
      kubernetes_user = text(object(kubernetes.kubernetesUserDetails).username),
    }
  elseif resource.ecsClusterDetails then
    local cluster = object(resource.ecsClusterDetails)
    return "ecs", { cluster = text(cluster.name), task = text(object(cluster.taskDetails).arn) }
  elseif finding_type:find(":Lambda/", 1, true) or resource.lambdaDetails then
    local lambda = object(resource.lambdaDetails)
    return "lambda", {
      function_name = text(lambda.functionName), function_arn = text(lambda.functionArn),
      function_version = text(lambda.functionVersion),
    }
  end
  return nil
end

--- The first threat name GuardDuty's threat lists give, as the malware's family.
local function threat_name(service)
  local intelligence = object(object(service.evidence).threatIntelligenceDetails)[1]
  return text(object(object(intelligence).threatNames)[1])
end

return mapper {
  map = function(event)
    local detail_type = event["detail-type"]
    if detail_type ~= "GuardDuty Finding" then
      error(('not a GuardDuty finding: detail-type is "%s"; give the EventBridge rule the pattern'
        .. ' {"source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"]}'):format(tostring(detail_type)), 0)
    end
    local finding = event.detail
    if type(finding) ~= "table" or not text(finding.type) or not text(finding.id) then
      error("a GuardDuty Finding event without a finding (detail.type and detail.id): post EventBridge's event"
        .. " as it is, with no input transformer", 0)
    end
    local service, resource = object(finding.service), object(finding.resource)
    local action, instance = object(service.action), object(resource.instanceDetails)
    local key = object(resource.accessKeyDetails)
    local other = remote(action)
    local remote_ip = text(other.ipAddressV4) or text(other.ipAddressV6)
    local host, host_ip = instance_name(instance), instance_ip(instance, action)
    local platform, workload_fields = workload(finding.type, resource)
    -- A container or a function has no instance for the playbooks to cut off: people contain it.
    local entry = not platform and kind(finding.type) or nil

    local incident = {
      title = text(finding.title) or finding.type,
      type = entry and entry.type or "guardduty",
      severity = severities.of_score(tonumber(finding.severity) or 0, SCORES),
      -- Each update of the finding keeps its id: one finding, one incident.
      source_ref = finding.id,
      details = ("%s\nhttps://console.aws.amazon.com/guardduty/home?region=%s#/findings?macros=current&fId=%s")
        :format(text(finding.description) or finding.type, finding.region, finding.id),
      labels = { "guardduty", finding.type },
      fields = {
        finding_type = finding.type,
        account = finding.accountId,
        region = finding.region,
        instance_id = text(instance.instanceId),
        -- How often GuardDuty saw the activity: it grows at each update of the finding.
        occurrences = math.tointeger(service.count),
        remote_ip = remote_ip,
        remote_country = text(object(other.country).countryName),
        remote_org = text(object(other.organization).asnOrg),
      },
    }
    local fields = incident.fields

    if incident.type == "brute_force" then
      if service.resourceRole == "ACTOR" then
        -- Our instance guesses passwords on others (GuardDuty rates it high): its private address
        -- is the source, which the playbook gives to people to find what runs there.
        fields.src_ip, fields.host = host_ip, remote_ip
        incident.title = ("%s brute force from %s (%s) on %s"):format(entry.protocol, host or "?", host_ip or "?",
          remote_ip or "?")
      else
        fields.src_ip, fields.host = remote_ip, host
        incident.title = ("%s brute force on %s from %s"):format(entry.protocol, host or "?", remote_ip or "?")
      end
    elseif incident.type == "c2_traffic" then
      local dns = object(action.dnsRequestAction)
      fields.host = host
      fields.host_ip = host_ip
      fields.remote_domain = text(dns.domain) and dns.domain:lower()
      fields.signature = finding.type
      fields.category = finding.type:match("^([^:]+)")
      -- GuardDuty's severity is its certainty: High for a peer on its threat lists.
      fields.confidence = severities.at_least(incident.severity, "high") and "high" or "medium"
      fields.malware_family = threat_name(service)
      incident.title = ("C2 traffic from %s (%s) to %s"):format(host or "?", host_ip or "?",
        remote_ip or fields.remote_domain or "?")
    elseif incident.type == "malware" then
      -- Runtime Monitoring's findings name the process; the EC2 ones, seen in traffic, do not.
      local process = object(object(service.runtimeDetails).process)
      fields.host = host
      fields.host_ip = host_ip
      fields.detection = finding.type
      fields.file_path = text(process.executablePath)
      fields.sha256 = text(process.executableSha256) and process.executableSha256:lower()
      fields.process_chain = text(process.name)
      -- GuardDuty watches and stops nothing: whatever mines may be running now.
      fields.action = "detected"
      incident.title = ("%s on %s"):format(finding.type, host or "an instance")
    elseif platform then
      for name, value in pairs(workload_fields) do fields[name] = value end
      fields.platform = platform
      fields.remediation = REMEDIATION[platform]
      local labels = incident.labels
      labels[#labels + 1] = platform
      local where = fields.function_name or fields.cluster
      if where then labels[#labels + 1] = ("%s:%s"):format(fields.function_name and "function" or "cluster", where) end
      if fields.namespace then labels[#labels + 1] = "namespace:" .. fields.namespace end
      local target = fields.function_name and ("function " .. fields.function_name)
        or fields.pod and ("pod %s/%s in cluster %s"):format(fields.namespace or "?", fields.pod, fields.cluster or "?")
        or fields.cluster and ("cluster " .. fields.cluster)
      if target then incident.title = ("%s on %s"):format(finding.type, target) end
    elseif incident.type == "cloud_credential_misuse" then
      local call = object(action.awsApiCallAction)
      fields.user = text(key.userName)
      fields.user_type = text(key.userType)
      fields.access_key_id = text(key.accessKeyId)
      fields.principal_id = text(key.principalId)
      fields.api = text(call.api)
      fields.api_service = text(call.serviceName)
      fields.remote_city = text(object(other.city).cityName)
      -- The window to search CloudTrail in for what the credential did.
      fields.first_seen = text(service.eventFirstSeen)
      fields.last_seen = text(service.eventLastSeen)
    end
    if is_sample(finding, service) then
      fields.sample_type = incident.type
      incident.type, incident.severity = "guardduty", "info"
      incident.labels[#incident.labels + 1] = "sample"
    end
    return incident
  end,

  -- GuardDuty sends a finding again as it goes on, every 6 hours by default, for days.
  dedup_window = "7d",

  -- An update joins its open incident, unless it is worse: then it opens its own incident and
  -- run, as the open one was triaged at a lower severity.
  is_duplicate = severities.no_worse,
}
