-- Tests of mappers/guardduty.lua, and of the brute-force, C2 and malware playbooks on what it maps.
-- Run them with:
--
--   automator test scripts/mappers/guardduty_test.lua

local guardduty = require("mappers.guardduty")
local brute_force = require("playbooks.brute_force")
local c2_traffic = require("playbooks.c2_traffic")
local malware = require("playbooks.malware")
local alert_triage = require("playbooks.alert_triage")

local ID = "8ac9f1b2e4d34c5f9a07b6e1d2c3f4a5"

--- The EventBridge event of a GuardDuty finding of `finding_type` and `severity` on the instance
--- bastion-prod-1 (10.40.1.25), whose service.action is `action`, as GuardDuty's documented finding
--- format has it (scripts/examples/alerts/guardduty.json is a whole one); `changes` replaces some
--- of the finding's top-level fields.
local function finding(finding_type, severity, action, changes)
  local detail = {
    schemaVersion = "2.0",
    accountId = "111122223333",
    region = "eu-west-1",
    partition = "aws",
    id = ID,
    arn = "arn:aws:guardduty:eu-west-1:111122223333:detector/12abc34d567e8fa901bc2d34e56789f0/finding/" .. ID,
    type = finding_type,
    resource = {
      resourceType = "Instance",
      instanceDetails = {
        instanceId = "i-0a1b2c3d4e5f67890",
        instanceType = "t3.medium",
        networkInterfaces = { { privateIpAddress = "10.40.1.25", publicIp = "192.0.2.44", vpcId = "vpc-0f9e8d7c6b5a4f3e2" } },
        tags = { { key = "team", value = "platform" }, { key = "Name", value = "bastion-prod-1" } },
      },
    },
    service = {
      serviceName = "guardduty",
      detectorId = "12abc34d567e8fa901bc2d34e56789f0",
      action = action,
      resourceRole = "TARGET",
      additionalInfo = { value = "{}", type = "default" },
      eventFirstSeen = "2026-11-30T02:41:08Z",
      eventLastSeen = "2026-11-30T02:58:51Z",
      archived = false,
      count = 37,
    },
    severity = severity,
    createdAt = "2026-11-30T02:59:34.118Z",
    updatedAt = "2026-11-30T02:59:34.118Z",
    title = "The title GuardDuty gave " .. finding_type,
    description = "What GuardDuty says of " .. finding_type .. ".",
  }
  for key, value in pairs(changes or {}) do detail[key] = value end
  return {
    version = "0",
    id = "3f5c1a0e-7d2b-4b8e-9c61-2e0d4a9f8b17",
    ["detail-type"] = "GuardDuty Finding",
    source = "aws.guardduty",
    account = "111122223333",
    time = "2026-11-30T03:05:12Z",
    region = "eu-west-1",
    resources = {},
    detail = detail,
  }
end

--- A network connection with `remote_ip`, in `direction`.
local function connection(remote_ip, direction, local_port)
  return {
    actionType = "NETWORK_CONNECTION",
    networkConnectionAction = {
      connectionDirection = direction,
      remoteIpDetails = {
        ipAddressV4 = remote_ip,
        organization = { asn = "64500", asnOrg = "Example Hosting", isp = "Example Hosting", org = "Example Hosting" },
        country = { countryName = "Netherlands" },
        city = { cityName = "Amsterdam" },
      },
      localPortDetails = { port = local_port, portName = "Unknown" },
      localIpDetails = { ipAddressV4 = "10.40.1.25" },
      protocol = "TCP",
      blocked = false,
    },
  }
end

--- A DNS request for `domain`.
local function lookup(domain)
  return { actionType = "DNS_REQUEST", dnsRequestAction = { domain = domain, protocol = "UDP", blocked = false } }
end

local GUESSING = finding("UnauthorizedAccess:EC2/SSHBruteForce", 2, connection("198.51.100.23", "INBOUND", 22))

test("SSH password guessing on an instance is a brute_force incident from the remote address on the instance", function()
  local incident = guardduty.map(GUESSING)

  expect.equal(incident.type, "brute_force")
  expect.equal(incident.title, "SSH brute force on bastion-prod-1 from 198.51.100.23")
  expect.equal(incident.severity, "low")
  expect.equal(incident.source_ref, ID)
  expect.equal(incident.labels, { "guardduty", "UnauthorizedAccess:EC2/SSHBruteForce" })
  expect.equal(incident.details, "What GuardDuty says of UnauthorizedAccess:EC2/SSHBruteForce.\n"
    .. "https://console.aws.amazon.com/guardduty/home?region=eu-west-1#/findings?macros=current&fId=" .. ID)
  expect.equal(incident.fields, {
    src_ip = "198.51.100.23", host = "bastion-prod-1",
    finding_type = "UnauthorizedAccess:EC2/SSHBruteForce", account = "111122223333", region = "eu-west-1",
    instance_id = "i-0a1b2c3d4e5f67890", occurrences = 37,
    remote_ip = "198.51.100.23", remote_country = "Netherlands", remote_org = "Example Hosting",
  })
end)

test("an instance of ours guessing passwords elsewhere is the source, by its private address", function()
  local outbound = finding("UnauthorizedAccess:EC2/RDPBruteForce", 8, connection("203.0.113.90", "OUTBOUND", 49822))
  outbound.detail.service.resourceRole = "ACTOR"

  local incident = guardduty.map(outbound)

  expect.equal(incident.type, "brute_force")
  expect.equal(incident.title, "RDP brute force from bastion-prod-1 (10.40.1.25) on 203.0.113.90")
  expect.equal(incident.severity, "high")
  expect.equal(incident.fields.src_ip, "10.40.1.25")
  expect.equal(incident.fields.host, "203.0.113.90")
end)

test("GuardDuty's severity: Low below 4, Medium below 7, High below 9, Critical from 9", function()
  local seen = {}
  for _, score in ipairs({ 1, 3.9, 4, 6.9, 7, 8.9, 9, 10 }) do
    seen[#seen + 1] = guardduty.map(finding("Recon:EC2/Portscan", score, connection("198.51.100.23", "OUTBOUND", 0))).severity
  end

  expect.equal(seen, { "low", "low", "medium", "medium", "high", "high", "critical", "critical" })
end)

test("an update of the finding, seen more often, joins its open incident; a more severe one does not", function()
  local first = guardduty.map(GUESSING)
  local again = finding("UnauthorizedAccess:EC2/SSHBruteForce", 2, connection("198.51.100.23", "INBOUND", 22),
    { updatedAt = "2026-11-30T08:59:40.502Z" })
  again.detail.service.count = 212
  local worse = finding("UnauthorizedAccess:EC2/SSHBruteForce", 5, connection("198.51.100.23", "INBOUND", 22))

  expect.equal(guardduty.map(again).source_ref, first.source_ref)
  expect.equal(guardduty.map(again).fields.occurrences, 212)
  expect.equal(guardduty.is_duplicate(guardduty.map(again), first), true)
  expect.equal(guardduty.is_duplicate(guardduty.map(worse), first), false)
end)

test("an instance talking to a C2 server is a c2_traffic incident from its private address to the server", function()
  local beacon = finding("Backdoor:EC2/C&CActivity.B", 8, connection("198.51.100.7", "OUTBOUND", 52814))
  beacon.detail.service.evidence = {
    threatIntelligenceDetails = { { threatListName = "ProofPoint", threatNames = { "Cobalt_Strike" } } },
  }

  local incident = guardduty.map(beacon)

  expect.equal(incident.type, "c2_traffic")
  expect.equal(incident.title, "C2 traffic from bastion-prod-1 (10.40.1.25) to 198.51.100.7")
  expect.equal(incident.severity, "high")
  expect.equal(incident.fields.host_ip, "10.40.1.25")
  expect.equal(incident.fields.remote_ip, "198.51.100.7")
  expect.equal(incident.fields.remote_domain, nil)
  expect.equal(incident.fields.signature, "Backdoor:EC2/C&CActivity.B")
  expect.equal(incident.fields.category, "Backdoor")
  expect.equal(incident.fields.confidence, "high", "GuardDuty rates a peer on its threat lists High")
  expect.equal(incident.fields.malware_family, "Cobalt_Strike")
end)

test("a C2 or Trojan domain looked up in DNS names the domain as the peer; a Medium finding is not sure of itself", function()
  local named = guardduty.map(finding("Backdoor:EC2/C&CActivity.B!DNS", 8, lookup("Telemetry-CDN.example.net")))
  local drop = guardduty.map(finding("Trojan:EC2/DropPoint!DNS", 5, lookup("drop.example.org")))

  expect.equal(named.type, "c2_traffic")
  expect.equal(named.title, "C2 traffic from bastion-prod-1 (10.40.1.25) to telemetry-cdn.example.net")
  expect.equal(named.fields.remote_ip, nil)
  expect.equal(named.fields.remote_domain, "telemetry-cdn.example.net")
  expect.equal(drop.type, "c2_traffic")
  expect.equal(drop.fields.category, "Trojan")
  expect.equal(drop.fields.confidence, "medium")
end)

test("a crypto miner is malware GuardDuty only detected; Runtime Monitoring names its process", function()
  local dns = guardduty.map(finding("CryptoCurrency:EC2/BitcoinTool.B!DNS", 8, lookup("xmr.pool.example.com")))
  local runtime = finding("CryptoCurrency:Runtime/BitcoinTool.B", 8, lookup("xmr.pool.example.com"))
  runtime.detail.service.runtimeDetails = { process = {
    name = "xmrig", executablePath = "/tmp/.x/xmrig", executableSha256 = string.rep("AB", 32), pid = 4121,
  } }

  expect.equal(dns.type, "malware")
  expect.equal(dns.title, "CryptoCurrency:EC2/BitcoinTool.B!DNS on bastion-prod-1")
  expect.equal(dns.fields.action, "detected")
  expect.equal(dns.fields.detection, "CryptoCurrency:EC2/BitcoinTool.B!DNS")
  expect.equal(dns.fields.sha256, nil)
  local mined = guardduty.map(runtime).fields
  expect.equal({ mined.file_path, mined.sha256, mined.process_chain }, { "/tmp/.x/xmrig", string.rep("ab", 32), "xmrig" })
end)

test("console sign-ins from around the world, an instance's credentials used elsewhere, or calls from a listed address are cloud_credential_misuse", function()
  local login = finding("UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B", 5, {
    actionType = "AWS_API_CALL",
    awsApiCallAction = {
      api = "ConsoleLogin", serviceName = "signin.amazonaws.com", callerType = "Remote IP",
      remoteIpDetails = { ipAddressV4 = "203.0.113.61", country = { countryName = "Brazil" }, city = { cityName = "Recife" } },
    },
  }, { resource = { resourceType = "AccessKey", accessKeyDetails = {
    accessKeyId = "ASIAEXAMPLEKEY000001", principalId = "AIDAEXAMPLEPRINCIPAL1", userName = "l.moreau", userType = "IAMUser",
  } } })
  local exfiltration = finding("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", 8, {})

  local incident = guardduty.map(login)

  expect.equal(incident.type, "cloud_credential_misuse")
  expect.equal(incident.title, "The title GuardDuty gave UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B")
  expect.equal(incident.severity, "medium")
  expect.equal(incident.fields, {
    finding_type = "UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B", account = "111122223333", region = "eu-west-1",
    occurrences = 37, user = "l.moreau", user_type = "IAMUser", access_key_id = "ASIAEXAMPLEKEY000001",
    principal_id = "AIDAEXAMPLEPRINCIPAL1", api = "ConsoleLogin", api_service = "signin.amazonaws.com",
    remote_ip = "203.0.113.61", remote_country = "Brazil", remote_city = "Recife",
    first_seen = "2026-11-30T02:41:08Z", last_seen = "2026-11-30T02:58:51Z",
  })
  expect.equal(guardduty.map(exfiltration).type, "cloud_credential_misuse")
  expect.equal(guardduty.map(finding("UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom", 5, {})).type,
    "cloud_credential_misuse")
end)

test("any other finding is a guardduty incident for people, labelled with its type", function()
  local probe = guardduty.map(finding("Recon:EC2/PortProbeUnprotectedPort", 2, {
    actionType = "PORT_PROBE",
    portProbeAction = { blocked = false, portProbeDetails = {
      { localPortDetails = { port = 3389, portName = "RDP" }, remoteIpDetails = { ipAddressV4 = "198.51.100.200" } },
    } },
  }))

  expect.equal(probe.type, "guardduty")
  expect.equal(probe.title, "The title GuardDuty gave Recon:EC2/PortProbeUnprotectedPort")
  expect.equal(probe.labels, { "guardduty", "Recon:EC2/PortProbeUnprotectedPort" })
  expect.equal(probe.fields.remote_ip, "198.51.100.200")
  expect.equal(probe.fields.instance_id, "i-0a1b2c3d4e5f67890")
end)

test("a sample finding starts no playbook: its addresses are made up, and a block would be real", function()
  local sample = finding("UnauthorizedAccess:EC2/SSHBruteForce", 2, connection("198.51.100.23", "INBOUND", 22),
    { title = "[SAMPLE] 198.51.100.23 is performing SSH brute force attacks against i-99999999." })
  local older = finding("Backdoor:EC2/C&CActivity.B", 8, connection("198.51.100.7", "OUTBOUND", 52814))
  older.detail.service.additionalInfo = { sample = true }
  local newer = finding("CryptoCurrency:EC2/BitcoinTool.B", 8, connection("198.51.100.8", "OUTBOUND", 3333))
  newer.detail.service.additionalInfo = { value = '{"sample":true}', type = "default" }

  local incident = guardduty.map(sample)

  expect.equal(incident.type, "guardduty")
  expect.equal(incident.severity, "info")
  expect.equal(incident.labels, { "guardduty", "UnauthorizedAccess:EC2/SSHBruteForce", "sample" })
  expect.equal(incident.fields.sample_type, "brute_force")
  expect.equal(guardduty.map(older).fields.sample_type, "c2_traffic")
  expect.equal(guardduty.map(newer).fields.sample_type, "malware")
  expect.equal(guardduty.map(GUESSING).fields.sample_type, nil, "a real finding's additionalInfo says no sample")
end)

test("another event than a finding, or a finding cut down by an input transformer, is refused saying what to change", function()
  local health = finding("UnauthorizedAccess:EC2/SSHBruteForce", 2, {})
  health["detail-type"] = "GuardDuty Runtime Protection Unhealthy"

  expect.error(function() guardduty.map(health) end,
    'not a GuardDuty finding: detail-type is "GuardDuty Runtime Protection Unhealthy"; give the EventBridge rule the'
      .. ' pattern {"source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"]}')
  expect.error(function() guardduty.map({ ["detail-type"] = "GuardDuty Finding", detail = "i-0a1b2c3d4e5f67890" }) end,
    "a GuardDuty Finding event without a finding (detail.type and detail.id): post EventBridge's event as it is")
end)

test("the brute-force playbook blocks the address guessing passwords on the instance", function()
  stub.intel{ ["198.51.100.23"] = "malicious" }
  stub.action("checkpoint.block_ip", { status = "done" })

  local result = run(brute_force, guardduty.map(GUESSING))

  expect.action(result, "checkpoint.block_ip", { ip = "198.51.100.23" })
  expect.note(result, "failed sign-ins on bastion-prod-1 from 198.51.100.23.")
  expect.equal(result.incident.close_reason, "Brute force from 198.51.100.23: no sign-in succeeded, blocked for 24h.")
end)

test("the C2 playbook blocks the instance's C2 server and asks to contain the instance", function()
  stub.intel{ ["198.51.100.7"] = "unknown" }
  stub.action("checkpoint.block_ip", { status = "done" })
  stub.action("crowdstrike.find_host", { status = "done", result = { device_id = "5e0b8f136c244a9db7e192d4f0a3c658", hostname = "bastion-prod-1" } })
  stub.chat("Approve crowdstrike.contain_host", "approve", "alice")
  stub.action("crowdstrike.contain_host", { status = "done" })
  stub.task("Find and remove what on bastion-prod-1", "reimaged")

  local result = run(c2_traffic, guardduty.map(finding("Backdoor:EC2/C&CActivity.B", 8,
    connection("198.51.100.7", "OUTBOUND", 52814))))

  expect.note(result, "Backdoor:EC2/C&CActivity.B (Backdoor): 10.40.1.25 talks to 198.51.100.7.")
  expect.action(result, "checkpoint.block_ip", { ip = "198.51.100.7" })
  expect.action(result, "crowdstrike.find_host", { ip = "10.40.1.25" })
  expect.equal(result.incident.close_reason,
    "C2 traffic from bastion-prod-1 to 198.51.100.7: host reimaged, 198.51.100.7 blocked for 7d.")
end)

test("the C2 playbook has tier 1 review a Medium finding on a peer the feeds do not know, before anything is done", function()
  stub.intel{ ["drop.example.org"] = "unknown" }
  stub.task("Review the C2 alert: 10.40.1.25 to drop.example.org", "false positive")

  local result = run(c2_traffic, guardduty.map(finding("Trojan:EC2/DropPoint!DNS", 5, lookup("drop.example.org"))))

  expect.contains(expect.task(result, "Review the C2 alert").description, "the rule's confidence is medium")
  expect.equal(#result.actions, 0)
  expect.equal(result.incident.close_reason,
    "False positive: Trojan:EC2/DropPoint!DNS (Trojan), from 10.40.1.25 to drop.example.org.")
end)

test("without AWS set up, the malware playbook has a crypto miner's instance isolated by tier 2 and reimaged", function()
  stub.action("aws.quarantine_instance", false, "the integration aws is not set up")
  stub.task("Isolate host bastion-prod-1", "isolated")
  stub.task("Reimage or clean bastion-prod-1", "reimaged")

  local result = run(malware, guardduty.map(finding("CryptoCurrency:EC2/BitcoinTool.B!DNS", 8, lookup("xmr.pool.example.com"))))

  expect.equal(result.incident.severity, "critical", "a miner GuardDuty only saw may be running")
  expect.contains(expect.task(result, "Isolate host bastion-prod-1").description, "bastion-prod-1 (10.40.1.25)")
  expect.equal(result.incident.close_reason, "CryptoCurrency:EC2/BitcoinTool.B!DNS on bastion-prod-1: host reimaged.")
end)

--- A Runtime Monitoring finding of `finding_type` whose process is `process`, on the instance or,
--- with `resource`, on what that resource names.
local function runtime(finding_type, severity, action, process, resource)
  local event = finding(finding_type, severity, action, resource and { resource = resource })
  event.detail.service.runtimeDetails = { process = process }
  return event
end

local SHELL = { name = "bash", executablePath = "/usr/bin/bash", executableSha256 = string.rep("cd", 32), pid = 3120 }

-- An EKS cluster's pod, as Runtime Monitoring and EKS Protection findings describe it.
local POD = {
  resourceType = "EKSCluster",
  eksClusterDetails = { name = "prod-eks", arn = "arn:aws:eks:eu-west-1:111122223333:cluster/prod-eks",
    vpcId = "vpc-0f9e8d7c6b5a4f3e2", status = "ACTIVE" },
  kubernetesDetails = {
    kubernetesWorkloadDetails = { name = "checkout-7d9f8b6c5-x2k4q", type = "pods", namespace = "payments",
      uid = "5b9b3c2e-0d4f-4a1b-9c8e-7f6a5b4c3d2e" },
    kubernetesUserDetails = { username = "system:serviceaccount:payments:checkout" },
  },
}

test("Runtime Monitoring on an instance: a C&C peer is c2_traffic, a reverse shell or a malicious file is malware, with the instance", function()
  local beacon = guardduty.map(runtime("Backdoor:Runtime/C&CActivity.B", 8, connection("198.51.100.7", "OUTBOUND", 44012),
    { name = "kworkerd", executablePath = "/tmp/kworkerd" }))
  local shell = guardduty.map(runtime("Execution:Runtime/ReverseShell", 8, {}, SHELL))
  local dropped = guardduty.map(runtime("Execution:Runtime/MaliciousFileExecuted", 8, {},
    { name = "x", executablePath = "/dev/shm/x", executableSha256 = string.rep("ef", 32) }))

  expect.equal(beacon.type, "c2_traffic")
  expect.equal({ beacon.fields.host_ip, beacon.fields.remote_ip }, { "10.40.1.25", "198.51.100.7" })
  expect.equal(shell.type, "malware")
  expect.equal(shell.title, "Execution:Runtime/ReverseShell on bastion-prod-1")
  expect.equal({ shell.fields.file_path, shell.fields.process_chain, shell.fields.action }, { "/usr/bin/bash", "bash", "detected" })
  expect.equal(dropped.type, "malware")
  expect.equal(dropped.fields.sha256, string.rep("ef", 32))
  for _, incident in ipairs({ beacon, shell, dropped }) do
    expect.equal({ incident.fields.instance_id, incident.fields.region }, { "i-0a1b2c3d4e5f67890", "eu-west-1" })
  end
  expect.equal(guardduty.map(runtime("Impact:Runtime/CryptoMinerExecuted", 5, {}, SHELL)).type, "malware")
  expect.equal(guardduty.map(runtime("Trojan:Runtime/DropPoint!DNS", 5, lookup("drop.example.org"), SHELL)).type,
    "c2_traffic")
end)

test("a finding on an EKS pod is for people, whatever its type: cluster, namespace and pod as fields and labels, and AWS's steps", function()
  local shell = guardduty.map(runtime("Execution:Runtime/ReverseShell", 8, {}, SHELL, POD))
  local miner = guardduty.map(runtime("CryptoCurrency:Runtime/BitcoinTool.B", 8, lookup("xmr.pool.example.com"), SHELL, POD))
  local audit = guardduty.map(finding("Execution:Kubernetes/ExecInKubeSystemPod", 5, {
    actionType = "KUBERNETES_API_CALL",
    kubernetesApiCallAction = { requestUri = "/api/v1/namespaces/kube-system/pods/coredns/exec", verb = "create",
      remoteIpDetails = { ipAddressV4 = "203.0.113.80" } },
  }, { resource = POD }))

  expect.equal(shell.type, "guardduty")
  expect.equal(shell.title, "Execution:Runtime/ReverseShell on pod payments/checkout-7d9f8b6c5-x2k4q in cluster prod-eks")
  expect.equal(shell.labels, { "guardduty", "Execution:Runtime/ReverseShell", "eks", "cluster:prod-eks", "namespace:payments" })
  expect.equal({ shell.fields.platform, shell.fields.cluster, shell.fields.namespace, shell.fields.pod, shell.fields.workload_type },
    { "eks", "prod-eks", "payments", "checkout-7d9f8b6c5-x2k4q", "pods" })
  expect.equal(shell.fields.kubernetes_user, "system:serviceaccount:payments:checkout")
  expect.contains(shell.fields.remediation, "network policy that denies all ingress and egress traffic")
  expect.equal(miner.type, "guardduty", "a miner in a pod is no instance's to cut off")
  expect.equal(audit.type, "guardduty")
  expect.equal(audit.fields.remote_ip, "203.0.113.80")
  expect.equal(audit.fields.pod, "checkout-7d9f8b6c5-x2k4q")
end)

test("a finding on a Lambda function is for people, with the function as field and label", function()
  local lambda = guardduty.map(finding("Backdoor:Lambda/C&CActivity.B", 8, connection("198.51.100.7", "OUTBOUND", 443), {
    resource = { resourceType = "Lambda", lambdaDetails = {
      functionName = "invoice-export", functionArn = "arn:aws:lambda:eu-west-1:111122223333:function:invoice-export",
      functionVersion = "$LATEST", role = "arn:aws:iam::111122223333:role/invoice-export",
    } },
  }))

  expect.equal(lambda.type, "guardduty")
  expect.equal(lambda.title, "Backdoor:Lambda/C&CActivity.B on function invoice-export")
  expect.equal(lambda.labels, { "guardduty", "Backdoor:Lambda/C&CActivity.B", "lambda", "function:invoice-export" })
  expect.equal({ lambda.fields.function_name, lambda.fields.function_version }, { "invoice-export", "$LATEST" })
  expect.equal(lambda.fields.instance_id, nil)
  expect.contains(lambda.fields.remediation, "disable its triggers")
end)

test("tier 2 gets AWS's steps for a pod tier 1 calls a true positive", function()
  stub.task("Triage the Amazon GuardDuty alert", "true positive")

  local result = run(alert_triage, guardduty.map(runtime("Execution:Runtime/ReverseShell", 8, {}, SHELL, POD)))

  expect.equal(#result.actions, 0, "nothing tries to contain an instance")
  expect.contains(expect.task(result, "Respond to the Amazon GuardDuty alert").description,
    "Amazon GuardDuty says: Isolate the pod with a network policy")
end)

test("a reverse shell on an instance no EDR knows: AWS quarantines it once an approver agrees, and releases it when clean", function()
  stub.chat("Approve aws.quarantine_instance", "approve", "alice")
  stub.action("aws.quarantine_instance", { status = "done" })
  stub.task("Reimage or clean bastion-prod-1", "cleaned")

  local result = run(malware, guardduty.map(runtime("Execution:Runtime/ReverseShell", 8, {}, SHELL)))

  local quarantine = expect.action(result, "aws.quarantine_instance", { instance_id = "i-0a1b2c3d4e5f67890", region = "eu-west-1" })
  expect.equal(result.questions[1].id, quarantine.question)
  expect.note(result, "Instance i-0a1b2c3d4e5f67890 (bastion-prod-1) quarantined in AWS")
  expect.note(result, "deny its subnet in a network ACL if they must stop now")
  expect.equal(#result.tasks, 1, "no isolation for tier 2")
  expect.contains(expect.task(result, "Reimage or clean").description, "gives the instance its own security groups back")
  expect.equal(quarantine.undone, true)
  expect.note(result, "Containment of bastion-prod-1 lifted (ACT-test1).")
  expect.equal(result.incident.close_reason, "Execution:Runtime/ReverseShell on bastion-prod-1: host cleaned.")
end)

test("the C2 playbook quarantines in AWS an instance the EDR does not know", function()
  stub.intel{ ["198.51.100.7"] = "malicious" }
  stub.action("checkpoint.block_ip", { status = "done" })
  stub.action("crowdstrike.find_host", { status = "done" })
  stub.chat("Approve aws.quarantine_instance", "approve", "alice")
  stub.action("aws.quarantine_instance", { status = "done" })
  stub.task("Find and remove what on 10.40.1.25", "reimaged")

  local result = run(c2_traffic, guardduty.map(runtime("Backdoor:Runtime/C&CActivity.B", 8,
    connection("198.51.100.7", "OUTBOUND", 44012), SHELL)))

  expect.action(result, "aws.quarantine_instance", { instance_id = "i-0a1b2c3d4e5f67890", region = "eu-west-1" })
  expect.equal(expect.action(result, "aws.quarantine_instance").undone, true)
  expect.note(result, "Containment of 10.40.1.25 lifted")
end)

test("an approver's no to the quarantine leaves the isolation to tier 2, with why", function()
  stub.chat("Approve aws.quarantine_instance", "deny", "bob")
  stub.task("Isolate host bastion-prod-1", "isolated")
  stub.task("Reimage or clean bastion-prod-1", "reimaged")

  local result = run(malware, guardduty.map(runtime("Execution:Runtime/ReverseShell", 8, {}, SHELL)))

  expect.contains(expect.task(result, "Isolate host bastion-prod-1").description,
    "Automatic containment: the alert names no device id; AWS's quarantine of instance i-0a1b2c3d4e5f67890: denied by bob.")
  expect.contains(expect.task(result, "Reimage or clean").description, "Release the host from isolation")
end)
