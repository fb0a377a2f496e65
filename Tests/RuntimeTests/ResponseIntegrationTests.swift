@testable import AutomatorRuntime
import Crypto
import Foundation
import Hummingbird
import Logging
import Synchronization
import TestSupport
import Testing

@Suite("Response integrations: the shipped actions against loopback copies of the products' APIs", .serialized,
       .timeLimit(.minutes(1)))
struct ResponseIntegrationTests {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/integrations").path

    static func json(_ text: String, _ status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The shipped integration `name` alone (copied into a scripts folder of its own, with the
    /// shipped `lib/` it may require), with `settings`.
    static func integrations(_ name: String, _ settings: [String: String]) async throws -> (Integrations, ScratchFolder) {
        let folder = try ScratchFolder()
        try FileManager.default.createDirectory(atPath: folder.path + "/integrations", withIntermediateDirectories: false)
        try FileManager.default.copyItem(atPath: scripts + "/\(name).lua", toPath: folder.path + "/integrations/\(name).lua")
        try FileManager.default.copyItem(atPath: scripts + "/../lib", toPath: folder.path + "/lib")
        let integrations = await Integrations(folder: folder.path + "/integrations", settings: [name: .init(values: settings)],
                                              environment: [:], logger: logger)
        #expect(integrations.problems.isEmpty, "\(integrations.problems)")
        return (integrations, folder)
    }

    /// An action service over `integrations` and a store in `folder`, with an incident to journal on.
    static func service(_ integrations: Integrations, in folder: ScratchFolder,
                        actions: ActionConfiguration = ActionConfiguration()) async throws -> (ActionService, SQLiteStore)
    {
        let store = try SQLiteStore(folder: folder.path + "/data")
        return (ActionService(integrations: integrations, store: store, rules: AccessRules(actions: actions), logger: logger),
                store)
    }

    static func run(_ service: ActionService, _ name: String, _ parameters: [String: Any], key: String) async
        -> Result<ActionRecord, ActionError>
    {
        do {
            let plan = try service.plan(name, parameters: parameters)
            return .success(try await service.perform(plan, key: key, incident: nil, requestedBy: "test",
                                                      approvedBy: "test"))
        } catch { return .failure(error) }
    }

    // MARK: - Check Point

    @Test("Check Point: login, add-host, set-group, publish, logout to block, until undone; remove and delete-host to unblock")
    func checkPoint() async throws {
        let checkPoint = LoopbackCheckPoint()
        let server = try await checkPoint.start()
        defer { server.stop() }
        let (integrations, folder) = try await Self.integrations("checkpoint", [
            "base_url": server.url + "/web_api", "api_key": LoopbackCheckPoint.apiKey,
        ])
        let (service, store) = try await Self.service(integrations, in: folder)
        let declared = try service.declaration("checkpoint.block_ip")
        #expect(declared.risk == .high && declared.undo == "unblock_ip")
        #expect(declared.ttl == nil, "a block of a C2 address does not lift itself the next day")

        let blocked = try await Self.run(service, "checkpoint.block_ip", ["ip": "198.51.100.7", "reason": "C2"], key: "k/1").get()
        #expect(blocked.expiresAt == nil, "in force until undone")
        #expect(checkPoint.commands == ["login", "add-host", "set-group", "publish", "logout"])
        #expect(checkPoint.blocked == ["automator-198.51.100.7"])
        #expect(blocked.result == #"{"group":"Automator_Blocked","host":"automator-198.51.100.7"}"#)
        #expect(checkPoint.state.withLock { $0.sessions.isEmpty }, "logged out")

        // Blocked again (another playbook, or the replay of this one): the host object exists.
        _ = try await Self.run(service, "checkpoint.block_ip", ["ip": "198.51.100.7"], key: "k/2").get()
        #expect(checkPoint.commands.suffix(5) == ["login", "add-host", "set-group", "publish", "logout"])

        _ = try await service.undo(blocked.id, by: "test")
        #expect(checkPoint.commands.suffix(5) == ["login", "set-group", "delete-host", "publish", "logout"])
        #expect(checkPoint.blocked.isEmpty)
        await store.close()
        integrations.shutdown()
    }

    @Test("Check Point: a refused key fails the action; a failed change is discarded, not published")
    func checkPointFailures() async throws {
        let checkPoint = LoopbackCheckPoint()
        let server = try await checkPoint.start()
        defer { server.stop() }
        let (wrongKey, folder) = try await Self.integrations("checkpoint", [
            "base_url": server.url + "/web_api", "api_key": "wrong-api-key",
        ])
        let (service, store) = try await Self.service(wrongKey, in: folder)
        let refused = await Self.run(service, "checkpoint.block_ip", ["ip": "198.51.100.7"], key: "k/1")
        guard case .failure(let error) = refused else { Issue.record("the key was refused"); return }
        let recorded = try #require(try await service.history().first)
        #expect(error.description == "\(recorded.id): checkpoint.block_ip failed: Check Point: Authentication to server "
            + "failed. (400)", "the failed action's id, which history and show take")
        #expect(recorded.status == .failed)
        await store.close()
        wrongKey.shutdown()

        let (missingGroup, other) = try await Self.integrations("checkpoint", [
            "base_url": server.url + "/web_api", "api_key": LoopbackCheckPoint.apiKey, "group": "No_Such_Group",
        ])
        let (service2, store2) = try await Self.service(missingGroup, in: other)
        let failed = await Self.run(service2, "checkpoint.block_ip", ["ip": "198.51.100.8"], key: "k/2")
        guard case .failure(let missing) = failed else { Issue.record("the group is missing"); return }
        #expect(missing.description.contains("Requested object [No_Such_Group] not found (404)"), "\(missing)")
        #expect(checkPoint.commands.suffix(5) == ["login", "add-host", "set-group", "discard", "logout"])
        #expect(checkPoint.blocked.isEmpty, "nothing published")
        await store2.close()
        missingGroup.shutdown()
    }

    // MARK: - The other products

    @Test("Microsoft Graph: a client-credentials token, then PATCH accountEnabled and revokeSignInSessions")
    func entra() async throws {
        let graph = try await LoopbackGraph()
        defer { graph.stop() }
        let received = graph.received
        let (integrations, folder) = try await Self.integrations("entra", graph.settings)
        let (service, store) = try await Self.service(integrations, in: folder)
        let disabled = try await Self.run(service, "entra.disable_user", ["user": "mallory@example.com"], key: "k/1").get()
        #expect(received.lines == ["POST /tenant-1/oauth2/v2.0/token", "PATCH /v1.0/users/mallory@example.com"])
        #expect(received.last?.json["accountEnabled"] as? Bool == false && received.last?.headers["client-request-id"] == "k/1")
        #expect(disabled.result == #"{"account_enabled":false,"user":"mallory@example.com"}"#)
        _ = try await Self.run(service, "entra.revoke_sessions", ["user": "mallory@example.com"], key: "k/2").get()
        #expect(received.lines.last == "POST /v1.0/users/mallory@example.com/revokeSignInSessions")
        _ = try await service.undo(disabled.id, by: "test")
        #expect(received.last?.json["accountEnabled"] as? Bool == true, "enabled again")
        guard case .failure(let missing) = await Self.run(service, "entra.disable_user", ["user": "ghost@example.com"], key: "k/3")
        else { Issue.record("an unknown user fails"); return }
        #expect(missing.description.hasSuffix("Microsoft Graph, disable: 404 Request_ResourceNotFound: Resource "
            + "'ghost@example.com' does not exist."), "\(missing)")
        await store.close()
        integrations.shutdown()
    }

    // MARK: - AWS IAM

    @Test("The loopback IAM checks signatures as AWS does: AWS's published post-x-www-form-urlencoded vector")
    func iamSignatureCheck() {
        let request = ReceivedRequests.Request(line: "POST /", headers: [
            "authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                + "SignedHeaders=content-type;host;x-amz-date, Signature=" + String(repeating: "0", count: 64),
            "content-type": "application/x-www-form-urlencoded", "host": "example.amazonaws.com",
            "x-amz-date": "20150830T123600Z",
        ], body: "Param1=value1")
        #expect(LoopbackIAM.signature(of: request, secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
            == "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a")
    }

    @Test("AWS IAM: signed UpdateAccessKey disables a key and its undo enables it; PutUserPolicy denies all until DeleteUserPolicy")
    func awsIAM() async throws {
        let iam = try await LoopbackIAM()
        defer { iam.stop() }
        let (integrations, folder) = try await Self.integrations("aws", iam.settings())
        let (service, store) = try await Self.service(integrations, in: folder)
        let declared = try service.declaration("aws.disable_access_key")
        #expect(declared.risk == .high && declared.undo == "enable_access_key" && declared.ttl == nil)

        let key = ["user": "l.moreau", "access_key_id": "AKIAEXAMPLEMOREAU001"]
        let disabled = try await Self.run(service, "aws.disable_access_key", key, key: "k/1").get()
        let sent = try #require(iam.received.last)
        #expect(sent.line == "POST /")
        #expect(sent.form == ["Action": "UpdateAccessKey", "Version": "2010-05-08", "UserName": "l.moreau",
                              "AccessKeyId": "AKIAEXAMPLEMOREAU001", "Status": "Inactive"])
        #expect(sent.headers["content-type"] == "application/x-www-form-urlencoded; charset=utf-8")
        #expect(sent.headers["authorization"]?.hasSuffix(
            "Signature=" + (LoopbackIAM.signature(of: sent, secret: LoopbackIAM.secretAccessKey) ?? "?")) == true)
        #expect(sent.headers["authorization"]?.contains("Credential=\(LoopbackIAM.accessKeyID)/") == true)
        #expect(iam.state.withLock { $0.keys["l.moreau"]?["AKIAEXAMPLEMOREAU001"] } == "Inactive")
        #expect(disabled.result == #"{"access_key_id":"AKIAEXAMPLEMOREAU001","request_id":"req-1","status":"Inactive","user":"l.moreau"}"#)
        _ = try await service.undo(disabled.id, by: "test")
        #expect(iam.received.last?.form["Status"] == "Active")
        #expect(iam.state.withLock { $0.keys["l.moreau"]?["AKIAEXAMPLEMOREAU001"] } == "Active")

        let denied = try await Self.run(service, "aws.deny_all", ["user": "l.moreau"], key: "k/2").get()
        #expect(iam.received.last?.form["Action"] == "PutUserPolicy")
        let document = try #require(iam.state.withLock { $0.userPolicies["l.moreau"]?["automator-quarantine"] })
        let statement = (try JSONSerialization.jsonObject(with: Data(document.utf8)) as? [String: Any])?["Statement"] as? [[String: Any]]
        #expect(statement?.first?["Effect"] as? String == "Deny" && statement?.first?["Action"] as? String == "*"
            && statement?.first?["Resource"] as? String == "*")
        _ = try await service.undo(denied.id, by: "test")
        #expect(iam.received.last?.form == ["Action": "DeleteUserPolicy", "Version": "2010-05-08", "UserName": "l.moreau",
                                            "PolicyName": "automator-quarantine"])
        #expect(iam.state.withLock { $0.userPolicies["l.moreau"] } == [:])
        // Lifted already (by hand in the console): IAM's NoSuchEntity means there is nothing left to lift.
        let again = try await Self.run(service, "aws.allow_again", ["user": "l.moreau"], key: "k/3").get()
        #expect(again.result?.contains(#""request_id":"already deleted""#) == true, "\(again.result ?? "")")

        _ = try await Self.run(service, "aws.revoke_sessions", ["role": "web-app-role"], key: "k/4").get()
        let revoke = try #require(iam.state.withLock { $0.rolePolicies["web-app-role"]?["AWSRevokeOlderSessions"] })
        #expect(revoke.contains(#""DateLessThan":{"aws:TokenIssueTime":"20"#) && revoke.contains(#""Effect":"Deny""#))
        await store.close()
        integrations.shutdown()
    }

    @Test("AWS IAM: a protected user, a temporary key and a key id that is none are refused with nothing sent")
    func awsIAMRefusals() async throws {
        let iam = try await LoopbackIAM()
        defer { iam.stop() }
        let (integrations, folder) = try await Self.integrations("aws", iam.settings())
        var protected = ActionConfiguration()
        protected.protectedAccounts = ["breakglass", "automator"]
        let (service, store) = try await Self.service(integrations, in: folder, actions: protected)
        for (name, parameters) in [("aws.deny_all", ["user": "breakglass"]),
                                   ("aws.disable_access_key", ["user": "Automator", "access_key_id": "AKIAEXAMPLEMOREAU001"])] {
            guard case .failure(let refused) = await Self.run(service, name, parameters, key: "k/1") else {
                Issue.record("\(name) on a protected user was sent"); continue
            }
            #expect(refused.description.contains("is a protected account"), "\(refused)")
        }
        guard case .failure(let temporary) = await Self.run(service, "aws.disable_access_key",
                                                           ["user": "l.moreau", "access_key_id": "ASIAEXAMPLEKEY000001"], key: "k/2"),
              case .failure(let none) = await Self.run(service, "aws.disable_access_key",
                                                      ["user": "l.moreau", "access_key_id": "AKIA-1"], key: "k/3")
        else { Issue.record("a key UpdateAccessKey cannot change was sent"); return }
        #expect(temporary.description.hasSuffix("AWS IAM: ASIAEXAMPLEKEY000001 is a temporary key (an STS session's or a role's),"
            + " which UpdateAccessKey cannot change: deny the user everything (aws.deny_all), or revoke the role's sessions"
            + " (aws.revoke_sessions)"), "\(temporary)")
        #expect(none.description.contains(#"AWS IAM: "AKIA-1" is no access key id"#), "\(none)")
        #expect(iam.received.all.isEmpty, "nothing sent")
        await store.close()
        integrations.shutdown()
    }

    @Test("AWS IAM: its errors say what to fix; Throttling is waited out, then fails saying so")
    func awsIAMErrors() async throws {
        let iam = try await LoopbackIAM()
        defer { iam.stop() }
        let key = ["user": "l.moreau", "access_key_id": "AKIAEXAMPLEMOREAU001"]
        /// The error of disabling l.moreau's key (or `parameters`' key) with `changes` to the loopback's settings.
        func failure(_ changes: [String: String] = [:], key parameters: [String: String]? = nil) async throws -> String {
            let (integrations, folder) = try await Self.integrations("aws", iam.settings().merging(changes) { $1 })
            let (service, store) = try await Self.service(integrations, in: folder)
            defer { integrations.shutdown() }
            let outcome = await Self.run(service, "aws.disable_access_key", parameters ?? key, key: "k/1")
            await store.close()
            guard case .failure(let error) = outcome else { return "done" }
            return error.description
        }

        iam.state.withLock { $0.denied = ["UpdateAccessKey"] }
        #expect(try await failure().hasSuffix("AWS IAM, UpdateAccessKey: the integration's credentials may not do it: give the"
            + " IAM user or role of access key AKIAIOSFODNN7EXAMPLE the permission iam:UpdateAccessKey (AWS: User:"
            + " arn:aws:iam::111122223333:user/automator is not authorized to perform: iam:UpdateAccessKey on resource: user"
            + " l.moreau because no identity-based policy allows the iam:UpdateAccessKey action)"))
        iam.state.withLock { $0.denied = [] }
        #expect(try await failure(["access_key_id": "AKIAUNKNOWNEXAMPLE01"]).hasSuffix("AWS IAM, UpdateAccessKey: AWS knows no"
            + " access key AKIAUNKNOWNEXAMPLE01: check AWS_ACCESS_KEY_ID (integrations.aws.access_key_id), and that the key is active"))
        let wrongSecret = try await failure(["secret_access_key": "not-the-secret-of-this-key"])
        #expect(wrongSecret.contains("AWS IAM, UpdateAccessKey: AWS refused the signature (The request signature we calculated"
            + " does not match") && wrongSecret.hasSuffix("check that AWS_SECRET_ACCESS_KEY is the secret of access key"
            + " AKIAIOSFODNN7EXAMPLE, and that this host's clock is right"), "\(wrongSecret)")
        #expect(try await failure(key: ["user": "l.moreau", "access_key_id": "AKIAEXAMPLEGONE00001"]).hasSuffix(
            "AWS IAM, UpdateAccessKey: NoSuchEntity: The Access Key with id AKIAEXAMPLEGONE00001 cannot be found."))

        let before = iam.received.all.count
        iam.state.withLock { $0.throttled = 2 }
        #expect(try await failure() == "done", "the third attempt is answered")
        #expect(iam.received.all.count == before + 3)
        iam.state.withLock { $0.throttled = 3 }
        #expect(try await failure().hasSuffix("AWS IAM, UpdateAccessKey: throttled 3 times (Rate exceeded): other callers use"
            + " up the account's IAM quota; try again in a minute"))
    }

    @Test("AWS IAM: temporary credentials sign their session token as x-amz-security-token")
    func awsIAMSessionToken() async throws {
        let iam = try await LoopbackIAM()
        defer { iam.stop() }
        iam.state.withLock { $0.sessionToken = LoopbackIAM.sessionToken }
        let (integrations, folder) = try await Self.integrations("aws", iam.settings(temporary: true))
        let (service, store) = try await Self.service(integrations, in: folder)
        let disabled = try await Self.run(service, "aws.disable_access_key",
                                          ["user": "l.moreau", "access_key_id": "AKIAEXAMPLEMOREAU001"], key: "k/1").get()
        #expect(iam.received.last?.headers["x-amz-security-token"] == LoopbackIAM.sessionToken)
        #expect(iam.received.last?.headers["authorization"]?.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token") == true)
        #expect(disabled.status == .done)
        await store.close()
        integrations.shutdown()

        // Without the token, temporary credentials are refused: the loopback wants it signed.
        let (plain, other) = try await Self.integrations("aws", iam.settings())
        let (service2, store2) = try await Self.service(plain, in: other)
        guard case .failure(let refused) = await Self.run(service2, "aws.disable_access_key",
                                                         ["user": "l.moreau", "access_key_id": "AKIAEXAMPLEMOREAU001"], key: "k/2")
        else { Issue.record("an unsigned session token was accepted"); return }
        #expect(refused.description.contains("AWS refused the signature"), "\(refused)")
        await store2.close()
        plain.shutdown()
    }

    @Test("CrowdStrike Falcon: an OAuth2 token, then devices-actions v2 contain and lift_containment")
    func crowdStrike() async throws {
        let falcon = try await LoopbackFalcon()
        defer { falcon.stop() }
        let received = falcon.received
        let (integrations, folder) = try await Self.integrations("crowdstrike", [
            "base_url": falcon.url, "client_id": LoopbackFalcon.clientID, "client_secret": LoopbackFalcon.clientSecret,
        ])
        let (service, store) = try await Self.service(integrations, in: folder)
        #expect(try service.declaration("crowdstrike.contain_host").risk == .critical)
        let contained = try await Self.run(service, "crowdstrike.contain_host", ["device_id": "0123abcd"], key: "k/1").get()
        #expect(received.lines == ["POST /oauth2/token", "POST /devices/entities/devices-actions/v2?action_name=contain"])
        #expect(received.last?.body == #"{"ids":["0123abcd"]}"#)
        _ = try await service.undo(contained.id, by: "test")
        #expect(received.lines.last == "POST /devices/entities/devices-actions/v2?action_name=lift_containment")
        await store.close()
        integrations.shutdown()

        let (refused, other) = try await Self.integrations("crowdstrike", [
            "base_url": falcon.url, "client_id": LoopbackFalcon.clientID, "client_secret": "wrong-secret",
        ])
        let (service2, store2) = try await Self.service(refused, in: other)
        guard case .failure(let error) = await Self.run(service2, "crowdstrike.contain_host", ["device_id": "0123abcd"], key: "k/2")
        else { Issue.record("a wrong secret fails"); return }
        #expect(error.description.hasSuffix("CrowdStrike Falcon, token: 403 access denied, invalid client credentials"))
        await store2.close()
        refused.shutdown()
    }

    @Test("CrowdStrike Falcon: find_host searches the devices by local_ip; none, or two, fail naming what to do")
    func crowdStrikeFindHost() async throws {
        // 10.20.4.31 is one laptop; 10.20.9.9 was handed from an old desktop to a new one.
        let falcon = try await LoopbackFalcon(devices: [
            .init(id: "5e0b8f13", hostname: "WS-ENG-0142", localIP: "10.20.4.31"),
            .init(id: "77aa01", hostname: "WS-NEW-0007", localIP: "10.20.9.9", lastSeen: "2026-11-30T02:10:00Z"),
            .init(id: "12bc02", hostname: "WS-OLD-0311", localIP: "10.20.9.9", lastSeen: "2026-09-02T17:45:10Z"),
        ])
        defer { falcon.stop() }
        let received = falcon.received
        let (integrations, folder) = try await Self.integrations("crowdstrike", [
            "base_url": falcon.url, "client_id": LoopbackFalcon.clientID, "client_secret": LoopbackFalcon.clientSecret,
        ])
        // Our own networks protected, as a real configuration has them: a lookup of one of our hosts passes.
        var rules = ActionConfiguration()
        rules.protectedNetworks = ["10.0.0.0/8"]
        let store = try SQLiteStore(folder: folder.path + "/data")
        let service = ActionService(integrations: integrations, store: store, rules: AccessRules(actions: rules), logger: Self.logger)
        #expect(try service.declaration("crowdstrike.find_host").risk == .low)

        let found = try await Self.run(service, "crowdstrike.find_host", ["ip": "10.20.4.31"], key: "k/1").get()
        #expect(received.lines.last == "GET /devices/combined/devices/v1?filter=local_ip%3A%2710.20.4.31%27&sort=last_seen.desc&limit=10")
        let result = found.result ?? ""
        #expect(result.contains(#""device_id":"5e0b8f13""#) && result.contains(#""hostname":"WS-ENG-0142""#), "\(result)")

        guard case .failure(let none) = await Self.run(service, "crowdstrike.find_host", ["ip": "10.20.77.1"], key: "k/2"),
              case .failure(let two) = await Self.run(service, "crowdstrike.find_host", ["ip": "10.20.9.9"], key: "k/3")
        else { Issue.record("no device, or two, is no answer"); return }
        #expect(none.description.hasSuffix(
            "CrowdStrike Falcon: no device reports the address 10.20.77.1: no sensor there, or it has another address now"),
            "\(none)")
        #expect(two.description.hasSuffix("CrowdStrike Falcon: 2 devices report the address 10.20.9.9: WS-NEW-0007 (77aa01,"
            + " last seen 2026-11-30T02:10:00Z), WS-OLD-0311 (12bc02, last seen 2026-09-02T17:45:10Z); contain the right"
            + " one by its device id"), "\(two)")
        await store.close()
        integrations.shutdown()
    }

    @Test("PagerDuty Events v2: trigger with the action's key as dedup_key; the undo resolves the same alert")
    func pagerDuty() async throws {
        let received = ReceivedRequests()
        let router = Router()
        received.route(router, .post, "/v2/enqueue") { request in
            let event = request.json
            guard event["routing_key"] as? String == "pd-routing-key" else {
                return Self.json(#"{"status": "invalid event", "message": "Event object is invalid", "errors": ["Invalid routing key"]}"#,
                            .badRequest)
            }
            return Self.json(#"{"status": "success", "message": "Event processed", "dedup_key": "\#(event["dedup_key"] as? String ?? "")"}"#,
                        .accepted)
        }
        let server = try await LoopbackServer(router)
        defer { server.stop() }
        let (integrations, folder) = try await Self.integrations("pagerduty", ["base_url": server.url,
                                                                               "routing_key": "pd-routing-key"])
        let (service, store) = try await Self.service(integrations, in: folder)
        let paged = try await Self.run(service, "pagerduty.trigger", ["summary": "C2 beacon on web-1", "severity": "critical"],
                                       key: "run-1/4").get()
        let trigger = try #require(received.last?.json)
        #expect(trigger["event_action"] as? String == "trigger" && trigger["dedup_key"] as? String == "run-1/4")
        #expect((trigger["payload"] as? [String: Any])?["severity"] as? String == "critical")
        #expect(paged.result == #"{"dedup_key":"run-1/4","status":"success"}"#)
        _ = try await service.undo(paged.id, by: "test")
        #expect(received.last?.json["event_action"] as? String == "resolve" && received.last?.json["dedup_key"] as? String == "run-1/4")
        await store.close()
        integrations.shutdown()
    }

    @Test("Twilio: Basic authentication, a form-encoded message, 201; a refused number says Twilio's reason")
    func twilio() async throws {
        let received = ReceivedRequests()
        let router = Router()
        let credentials = Data("AC123:twilio-token".utf8).base64EncodedString()
        received.route(router, .post, "/2010-04-01/Accounts/AC123/Messages.json") { request in
            guard request.headers["authorization"] == "Basic " + credentials else {
                return Self.json(#"{"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}"#,
                            .unauthorized)
            }
            if request.form["To"] == "+15005550001" {
                return Self.json(#"{"code": 21211, "message": "The 'To' number +15005550001 is not a valid phone number.", "status": 400}"#,
                            .badRequest)
            }
            return Self.json(#"{"sid": "SM0123456789abcdef", "status": "queued", "to": "\#(request.form["To"] ?? "")"}"#, .created)
        }
        let server = try await LoopbackServer(router)
        defer { server.stop() }
        let (integrations, folder) = try await Self.integrations("twilio", [
            "base_url": server.url, "account_sid": "AC123", "from": "+15551230000", "credentials": credentials,
        ])
        let (service, store) = try await Self.service(integrations, in: folder)
        let sent = try await Self.run(service, "twilio.send_sms", ["to": "+15559876543", "text": "INC-7: contain web-1 & call"],
                                      key: "k/1").get()
        #expect(received.last?.form == ["To": "+15559876543", "From": "+15551230000", "Body": "INC-7: contain web-1 & call"])
        #expect(sent.result == #"{"sid":"SM0123456789abcdef","status":"queued"}"#)
        guard case .failure(let error) = await Self.run(service, "twilio.send_sms", ["to": "+15005550001", "text": "x"], key: "k/2")
        else { Issue.record("an invalid number fails"); return }
        #expect(error.description.hasSuffix("Twilio answered 400: The 'To' number +15005550001 is not a valid phone number. (code 21211)"))
        await store.close()
        integrations.shutdown()
    }

    @Test("Jira: create an issue labelled with the action's key (a replay finds it), comment on one")
    func jira() async throws {
        let jira = try await LoopbackJira()
        defer { jira.stop() }
        let (integrations, folder) = try await Self.integrations("jira", jira.settings)
        let (service, store) = try await Self.service(integrations, in: folder)
        let opened = try await Self.run(service, "jira.create_issue", ["summary": "Phishing wave"], key: "run-9/3").get()
        #expect(opened.result == #"{"key":"SEC-1"}"#)
        #expect(jira.labels == ["automator-run-9-3"])
        // The same key again, as a replay after a crash would send it: no second issue.
        let again = try await Self.run(service, "jira.create_issue", ["summary": "Phishing wave"], key: "run-9/3").get()
        #expect(again.result == #"{"existed":true,"key":"SEC-1"}"# && jira.labels.count == 1)
        _ = try await Self.run(service, "jira.comment", ["issue": "SEC-1", "text": "Blocked at the firewall"], key: "k/2").get()
        #expect(jira.received.lines.last == "POST /rest/api/2/issue/SEC-1/comment")
        #expect(jira.issue("SEC-1")?.comments == ["Blocked at the firewall"])
        await store.close()
        integrations.shutdown()

        var settings = jira.settings
        settings["project"] = "OPS"
        let (wrong, other) = try await Self.integrations("jira", settings)
        let (service2, store2) = try await Self.service(wrong, in: other)
        guard case .failure(let error) = await Self.run(service2, "jira.create_issue", ["summary": "x"], key: "k/9")
        else { Issue.record("an unknown project fails"); return }
        #expect(error.description.hasSuffix("Jira, create issue: 400 project: valid project is required"))
        await store2.close()
        wrong.shutdown()
    }

    @Test("The signed webhook: HMAC-SHA256 over timestamp and body with the shared secret, checked as a receiver would")
    func webhook() async throws {
        let received = ReceivedRequests()
        let router = Router()
        let secret = SymmetricKey(data: Array("whsec-0123".utf8))
        received.route(router, .post, "/hooks/automator") { request in
            let timestamp = request.headers["x-automator-timestamp"] ?? ""
            let signature = request.headers["x-automator-signature"] ?? ""
            let expected = "sha256=" + HMAC<SHA256>.authenticationCode(for: Array("\(timestamp).\(request.body)".utf8), using: secret)
                .map { String(format: "%02x", $0) }.joined()
            guard signature == expected, let sent = Double(timestamp), abs(sent - Date().timeIntervalSince1970) < 300 else {
                return Self.json(#"{"error": "bad signature"}"#, .unauthorized)
            }
            return Self.json(#"{"ok": true}"#)
        }
        let server = try await LoopbackServer(router)
        defer { server.stop() }
        let (integrations, folder) = try await Self.integrations("webhook", ["url": server.url + "/hooks/automator",
                                                                             "secret": "whsec-0123"])
        let (service, store) = try await Self.service(integrations, in: folder)
        let sent = try await Self.run(service, "webhook.notify", ["event": "contained", "text": "web-1"], key: "run-2/5").get()
        #expect(sent.result == #"{"status":200}"#)
        let body = try #require(received.last)
        #expect(body.json["event"] as? String == "contained" && body.headers["idempotency-key"] == "run-2/5")
        #expect(!body.body.contains("whsec") && !(body.headers["x-automator-signature"] ?? "").contains("whsec"))
        await store.close()
        integrations.shutdown()

        let (wrong, other) = try await Self.integrations("webhook", ["url": server.url + "/hooks/automator",
                                                                     "secret": "not-the-secret"])
        let (service2, store2) = try await Self.service(wrong, in: other)
        guard case .failure(let error) = await Self.run(service2, "webhook.notify", ["event": "x"], key: "k/1")
        else { Issue.record("a wrong secret is refused by the receiver"); return }
        #expect(error.description.hasSuffix(#"the webhook answered 401: {"error": "bad signature"}"#))
        await store2.close()
        wrong.shutdown()
    }

    /// A real SMTP server, aiosmtpd (`pip install aiosmtpd`), on a free loopback port, keeping what
    /// it receives in a Maildir, until `stop`. With `tls`, it offers STARTTLS with a certificate for
    /// 127.0.0.1 made now by `openssl` (its own CA: `certificate`), requires it, and takes mail only
    /// after a login as `soc` with `password`.
    final class MailServer: Sendable {
        static let password = "correct horse battery staple"
        let port: Int
        let maildir: String
        let certificate: String
        private let process: Process
        private let input = Pipe()

        init(in folder: ScratchFolder, tls: Bool, password: String = MailServer.password) throws {
            maildir = folder.path + "/maildir"
            certificate = folder.path + "/relay.pem"
            let key = folder.path + "/relay.key"
            if tls {
                let openssl = Process()
                openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                openssl.arguments = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                                     "-keyout", key, "-out", certificate, "-subj", "/CN=relay.test",
                                     "-addext", "subjectAltName=IP:127.0.0.1"]
                openssl.standardError = FileHandle.nullDevice
                try openssl.run()
                openssl.waitUntilExit()
                guard openssl.terminationStatus == 0 else { throw ActionError(.failed, "openssl could not make a certificate") }
            }
            port = try FreePort.onLoopback()
            process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", """
                import ssl, sys
                from aiosmtpd.controller import Controller
                from aiosmtpd.handlers import Mailbox
                from aiosmtpd.smtp import AuthResult
                maildir, port, tls, certificate, key, password = sys.argv[1:]
                options = {}
                if tls == "tls":
                    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                    context.load_cert_chain(certificate, key)
                    def authenticate(server, session, envelope, mechanism, data):
                        return AuthResult(success=data.login == b"soc" and data.password == password.encode(), handled=False)
                    options = dict(tls_context=context, require_starttls=True, auth_required=True,
                                   authenticator=authenticate)
                controller = Controller(Mailbox(maildir), hostname="127.0.0.1", port=int(port), **options)
                controller.start()
                print("ready", flush=True)
                sys.stdin.read()
                controller.stop()
                """, maildir, String(port), tls ? "tls" : "plain", certificate, key, password]
            let output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            try process.run()
            let ready = output.fileHandleForReading.availableData
            guard String(decoding: ready, as: UTF8.self).hasPrefix("ready") else {
                throw ActionError(.failed, "aiosmtpd did not start: pip install aiosmtpd")
            }
        }

        /// The messages received, as text.
        var messages: [String] {
            let folder = maildir + "/new"
            return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted().compactMap {
                try? String(contentsOfFile: folder + "/" + $0, encoding: .utf8)
            }
        }

        func stop() {
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
        }
    }

    /// Sends one message through `email.lua` with `settings` (the server and sender are added);
    /// the action's record, or its error.
    static func email(_ server: MailServer, _ settings: [String: String], text: String = "t") async throws
        -> Result<ActionRecord, ActionError>
    {
        let (integrations, folder) = try await Self.integrations("email", [
            "server": "smtp://127.0.0.1:\(server.port)", "from": "soc-automation@example.com",
        ].merging(settings) { $1 })
        let (service, store) = try await Self.service(integrations, in: folder)
        defer { integrations.shutdown() }
        let sent = await Self.run(service, "email.send_email", [
            "to": "oncall@example.com, lead@example.com", "subject": "INC-7: web-1 contained (é)", "text": text,
        ], key: "run-3/9")
        await store.close()
        return sent
    }

    @Test("E-mail over STARTTLS with a login to a real server (aiosmtpd): headers, recipients, a dot-stuffed body")
    func email() async throws {
        let scratch = try ScratchFolder()
        let server = try MailServer(in: scratch, tls: true)
        defer { server.stop() }
        let sent = try await Self.email(server, ["ca_file": server.certificate, "username": "soc",
                                                 "password": MailServer.password],
                                        text: "Contained at 10:42.\n.hidden line\nAutomator").get()
        #expect(sent.result == #"{"message_id":"<run-3.9@automator>","to":["oncall@example.com","lead@example.com"]}"#,
                "\(sent.result ?? "")")
        let message = try #require(server.messages.first)
        #expect(message.contains("X-RcptTo: oncall@example.com, lead@example.com"), "\(message)")
        #expect(message.contains("From: soc-automation@example.com") && message.contains("Message-ID: <run-3.9@automator>"))
        #expect(message.contains("Subject: =?utf-8?B?\(Data("INC-7: web-1 contained (é)".utf8).base64EncodedString())?="))
        #expect(message.contains("Contained at 10:42.\n.hidden line\nAutomator"), "the server undid the dot-stuffing")
    }

    @Test("A text's lone carriage returns are line ends: an alert's <CR>.<CR>MAIL FROM smuggles no second message")
    func loneCarriageReturns() throws {
        // What an alert's text may hold. aiosmtpd reads CR alone as a line end once the message is
        // in, so what is checked is what goes on the wire: a relay that ends DATA at <CR>.<CR>
        // took the rest as commands.
        let smuggled = "Reported:\r.\rMAIL FROM:<ceo@example.com>\rRCPT TO:<finance@example.com>\rDATA\rPay now\r.\r"
        let message = try SMTPMessage(.table(LuaTable(fields: [
            "server": "smtp://127.0.0.1:2525", "from": "soc@example.com", "to": "oncall@example.com",
            "subject": "INC-7", "text": .string(LuaString(smuggled)),
        ])), secrets: IntegrationSecrets())
        #expect(message.data.hasSuffix("Reported:\r\n..\r\nMAIL FROM:<ceo@example.com>\r\nRCPT TO:<finance@example.com>\r\n"
            + "DATA\r\nPay now\r\n..\r\n\r\n.\r\n"), "\(message.data.debugDescription)")
        #expect(!message.data.replacingOccurrences(of: "\r\n", with: "").contains("\r"), "\(message.data.debugDescription)")
    }

    @Test("A 6-character SMTP password loads and logs in; the answer holding its characters inside a word is not mangled")
    func shortPassword() async throws {
        let scratch = try ScratchFolder()
        let server = try MailServer(in: scratch, tls: true, password: "xample")
        defer { server.stop() }
        let sent = try await Self.email(server, ["ca_file": server.certificate, "username": "soc", "password": "xample"])
            .get()
        #expect(sent.result == #"{"message_id":"<run-3.9@automator>","to":["oncall@example.com","lead@example.com"]}"#,
                "e[secret].com would be a mangled address: \(sent.result ?? "")")
        #expect(server.messages.count == 1)
    }

    @Test("SMTP refusals: a wrong password, a certificate nobody trusts, no STARTTLS where it is required, no server")
    func emailRefusals() async throws {
        let scratch = try ScratchFolder()
        let server = try MailServer(in: scratch, tls: true)
        defer { server.stop() }
        func failure(_ result: Result<ActionRecord, ActionError>) -> String {
            if case .failure(let error) = result { return error.description }
            return "sent"
        }
        let wrong = failure(try await Self.email(server, ["ca_file": server.certificate, "username": "soc",
                                                          "password": "Tr0ub4dor&3"]))
        #expect(wrong.contains("answered 'AUTH PLAIN' with 535") && wrong.contains("the user name or the password was refused"),
                "\(wrong)")
        #expect(!wrong.contains("Tr0ub4dor") && !wrong.contains(Data("\0soc\0Tr0ub4dor&3".utf8).base64EncodedString()))
        let untrusted = failure(try await Self.email(server, ["username": "soc", "password": MailServer.password]))
        #expect(untrusted.contains("TLS with the SMTP server 127.0.0.1:\(server.port) failed")
            && untrusted.contains("set ca_file"), "the system's trust store does not know the test CA: \(untrusted)")
        let noLogin = failure(try await Self.email(server, ["ca_file": server.certificate]))
        #expect(noLogin.contains("530"), "the relay wants a login: \(noLogin)")
        #expect(server.messages.isEmpty)

        let plainScratch = try ScratchFolder()
        let plain = try MailServer(in: plainScratch, tls: false)
        defer { plain.stop() }
        let required = failure(try await Self.email(plain, ["username": "soc", "password": MailServer.password]))
        #expect(required.contains("does not offer STARTTLS, and starttls is required: nothing was sent"), "\(required)")
        let noTLSLogin = failure(try await Self.email(plain, ["starttls": "opportunistic", "username": "soc",
                                                              "password": MailServer.password]))
        #expect(noTLSLogin.contains("the SMTP password is not sent to 127.0.0.1:\(plain.port) without TLS"), "\(noTLSLogin)")
        #expect(plain.messages.isEmpty, "never a silent fall back to plain text")
        _ = try await Self.email(plain, ["starttls": "opportunistic"]).get()
        _ = try await Self.email(plain, ["starttls": "off"]).get()
        #expect(plain.messages.count == 2, "plain text only when the configuration allows it")
        let bad = failure(try await Self.email(plain, ["starttls": "sometimes"]))
        #expect(bad.contains("starttls must be required, opportunistic or off"), "\(bad)")

        let (elsewhere, other) = try await Self.integrations("email", ["server": "smtp://127.0.0.1:1",
                                                                       "from": "soc-automation@example.com"])
        let (service, store) = try await Self.service(elsewhere, in: other)
        let refused = failure(await Self.run(service, "email.send_email", ["to": "x@example.com", "subject": "s", "text": "t"],
                                             key: "k/1"))
        #expect(refused.contains("the SMTP server 127.0.0.1:1 refused the connection"), "\(refused)")
        await store.close()
        elsewhere.shutdown()
    }
}
