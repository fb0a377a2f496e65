import Crypto
import Foundation
import TestSupport
import Testing

/// The actions that take a close back to its source, `scripts/integrations/sentinel.lua`'s against
/// a loopback Azure Resource Manager, `defender.lua`'s against a loopback Microsoft Graph,
/// `crowdstrike.lua`'s against a loopback Falcon, and `jira.lua`'s, which closes the issues an
/// incident opened, against a loopback Jira, through `automator action run` on an incident already
/// closed, as `hooks/incident_closed.lua` runs them: what is sent, a change met by an edit in
/// Sentinel, a missing role or scope or permission, the undo.
@Suite("Writing a close back: Sentinel's, Defender's, Falcon's and Jira's actions through automator action run",
       .serialized, .timeLimit(.minutes(3)))
struct WriteBackActionTests {
    static let name = "73e01a99-5cd7-4139-a149-9f2736ff2ab5"
    static let alertID = "da637551227677560813_-961444813"
    static let falconID = "d615b8c2f4e34c0fb7a2e5d91c3f6a10:ind:5e0b8f136c244a9db7e192d4f0a3c658:4389120745-10304-18449168"

    /// A data folder whose INC-1 is closed, and the arguments that act in it with the shipped
    /// scripts and a configuration for `settings` (integration name to settings).
    static func closedIncident(_ settings: [String: [String: String]]) async throws -> (TemporaryFolder, [String]) {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data").path
        #expect(try await AutomatorProcess.run(["incident", "create", "--data", data, "--title", "Beaconing", "--type",
                                                "sentinel_incident", "--severity", "high"]).status == 0)
        let closed = try await AutomatorProcess.run(["incident", "close", "INC-1", "--reason", "False positive: a scanner",
                                                     "--data", data])
        #expect(closed.status == 0, "\(closed.stderr)")
        let integrations = settings.sorted { $0.key < $1.key }.map { integration, values in
            "  \(integration): { " + values.sorted { $0.key < $1.key }.map { #"\#($0.key): "\#($0.value)""# }
                .joined(separator: ", ") + " }"
        }
        let config = try folder.write("automator.yml", """
            integrations:
            \(integrations.joined(separator: "\n"))
            actions:
              protected: { networks: [10.0.0.0/8] }
            """)
        return (folder, ["--incident", "INC-1", "--data", data, "--scripts", ActionCommandTests.scripts, "--config", config])
    }

    /// Sentinel's incident `name`, New, owned by Alice and labelled.
    static func publishIncident(on sentinel: LoopbackSentinel) {
        sentinel.publish(["""
            {"id": "\(LoopbackSentinel.path)/incidents/\(name)", "name": "\(name)", "type": "Microsoft.SecurityInsights/Incidents",
             "properties": {"title": "Beaconing to a known C2 server", "severity": "High", "status": "New",
              "owner": {"assignedTo": "Alice", "userPrincipalName": "alice@example.com"},
              "labels": [{"labelName": "c2", "labelType": "User"}], "incidentNumber": 3177,
              "lastModifiedTimeUtc": "2026-11-30T02:15:03Z"}}
            """])
    }

    /// The requests of the incident's own URL (its reads and changes), as `METHOD` lines.
    static func incidentCalls(_ sentinel: LoopbackSentinel) -> [ReceivedRequests.Request] {
        sentinel.received.all.filter { $0.line.contains("/incidents/\(name)?") }
    }

    @Test("close_incident PUTs the incident as read, closed, with the etag read; its undo makes it Active again")
    func closesAndReopens() async throws {
        let sentinel = try await LoopbackSentinel()
        defer { sentinel.stop() }
        Self.publishIncident(on: sentinel)
        let (folder, common) = try await Self.closedIncident(["sentinel": sentinel.settings])
        defer { withExtendedLifetime(folder) {} }

        let closed = try await AutomatorProcess.run(["action", "run", "sentinel.close_incident", "--param", "incident=\(Self.name)",
                                                     "--param", "classification=FalsePositive",
                                                     "--param", "comment=Closed in Automator as INC-1: a scanner"] + common)
        #expect(closed.status == 0 && closed.stdout.contains("  done  sentinel.close_incident  INC-1"),
                "an incident closed here is what the action follows: \(closed.stdout)\(closed.stderr)")
        let calls = Self.incidentCalls(sentinel)
        #expect(calls.map { String($0.line.prefix(4)) } == ["GET ", "PUT "], "\(calls.map(\.line))")
        let put = try #require(calls.last)
        #expect(put.headers["authorization"] == "Bearer \(LoopbackSentinel.token)")
        #expect(put.json["etag"] as? String == "\"\(Self.name)-0\"", "the etag read: \(put.body)")
        let sent = put.json["properties"] as? [String: Any] ?? [:]
        #expect(sent["status"] as? String == "Closed" && sent["classification"] as? String == "FalsePositive"
            && sent["classificationReason"] as? String == "IncorrectAlertLogic"
            && sent["classificationComment"] as? String == "Closed in Automator as INC-1: a scanner", "\(put.body)")
        // A PUT replaces the incident: what it had is sent back, or it is lost.
        #expect(sent["title"] as? String == "Beaconing to a known C2 server" && sent["severity"] as? String == "High"
            && (sent["owner"] as? [String: Any])?["assignedTo"] as? String == "Alice", "\(put.body)")
        #expect(sent["labels"] as? [[String: String]] == [["labelName": "c2"]], "a label's type is read-only: \(put.body)")
        #expect(sent["incidentNumber"] == nil, "read-only properties stay out: \(put.body)")
        #expect(sentinel.properties(of: Self.name)["status"] as? String == "Closed")

        let id = try #require(closed.stdout.split(separator: " ").first.map(String.init))
        let undone = try await AutomatorProcess.run(["action", "undo", id] + common.dropFirst(2))
        #expect(undone.status == 0, "\(undone.stdout)\(undone.stderr)")
        let reopened = sentinel.properties(of: Self.name)
        #expect(reopened["status"] as? String == "Active" && reopened["classification"] is NSNull
            && reopened["owner"] != nil, "\(reopened)")
    }

    @Test("An edit in Sentinel between the read and the PUT (412) has the close read and sent once more, then given up")
    func editedMeanwhile() async throws {
        let sentinel = try await LoopbackSentinel()
        defer { sentinel.stop() }
        Self.publishIncident(on: sentinel)
        let (folder, common) = try await Self.closedIncident(["sentinel": sentinel.settings])
        defer { withExtendedLifetime(folder) {} }
        let close = ["action", "run", "sentinel.close_incident", "--param", "incident=\(Self.name)",
                     "--param", "classification=TruePositive"] + common

        sentinel.editInSentinel(before: 1)
        let closed = try await AutomatorProcess.run(close)
        #expect(closed.status == 0, "\(closed.stdout)\(closed.stderr)")
        let calls = Self.incidentCalls(sentinel)
        #expect(calls.map { String($0.line.prefix(4)) } == ["GET ", "PUT ", "GET ", "PUT "], "\(calls.map(\.line))")
        #expect(calls.compactMap { $0.json["etag"] as? String } == ["\"\(Self.name)-0\"", "\"\(Self.name)-1\""],
                "the second PUT carries the etag of the second read")
        #expect(sentinel.properties(of: Self.name)["classificationReason"] as? String == "SuspiciousActivity")

        // Closed meanwhile: left as someone closed it, not overwritten.
        let again = try await AutomatorProcess.run(close.map { $0 == "classification=TruePositive" ? "classification=BenignPositive" : $0 })
        #expect(again.status == 0 && again.stdout.contains(#""closed_before":true"#), "\(again.stdout)\(again.stderr)")
        #expect(sentinel.properties(of: Self.name)["classification"] as? String == "TruePositive")

        let other = "0b5f3c6e-2d1a-4e8f-9c7b-a1d2e3f4a5b6"
        sentinel.publish([#"{"name": "\#(other)", "properties": {"title": "Rare process", "severity": "Low", "status": "New"}}"#])
        sentinel.editInSentinel(before: 2)
        let twice = try await AutomatorProcess.run(close.map { $0 == "incident=\(Self.name)" ? "incident=\(other)" : $0 })
        #expect(twice.status == 1 && twice.stderr.contains("Microsoft Sentinel, close: 412 PreconditionFailed: ")
            && twice.stderr.contains("(the incident changed in Sentinel while it was being changed here, twice: run the "
                + "action again)"), "\(twice.stderr)")
        #expect(sentinel.properties(of: other)["status"] as? String == "New")
    }

    @Test("Refusals name what to fix: the Responder role for a Reader, a reason the classification does not take")
    func refusals() async throws {
        let sentinel = try await LoopbackSentinel()
        defer { sentinel.stop() }
        Self.publishIncident(on: sentinel)
        let (folder, common) = try await Self.closedIncident(["sentinel": sentinel.settings])
        defer { withExtendedLifetime(folder) {} }

        sentinel.readOnly(true)
        let reader = try await AutomatorProcess.run(["action", "run", "sentinel.close_incident", "--param", "incident=\(Self.name)",
                                                     "--param", "classification=BenignPositive"] + common)
        #expect(reader.status == 1 && reader.stderr.contains("Microsoft Sentinel, close: 403 AuthorizationFailed: The client "
            + "'app-1' does not have authorization to perform action 'Microsoft.SecurityInsights/incidents/write'. (give the "
            + "application the Microsoft Sentinel Responder role on the workspace)"), "\(reader.stderr)")
        #expect(sentinel.properties(of: Self.name)["status"] as? String == "New")

        sentinel.readOnly(false)
        let calls = Self.incidentCalls(sentinel).count
        let unfit = try await AutomatorProcess.run(["action", "run", "sentinel.close_incident", "--param", "incident=\(Self.name)",
                                                    "--param", "classification=BenignPositive",
                                                    "--param", "reason=InaccurateData"] + common)
        #expect(unfit.status == 1 && unfit.stderr.contains(#"BenignPositive takes SuspiciousButExpected as its reason, got "InaccurateData""#),
                "\(unfit.stderr)")
        #expect(Self.incidentCalls(sentinel).count == calls, "refused before anything is sent")
    }

    @Test("A comment's id is made of the action's idempotency key, so that a replay writes the same comment")
    func commentIDFromKey() async throws {
        let sentinel = try await LoopbackSentinel()
        defer { sentinel.stop() }
        Self.publishIncident(on: sentinel)
        let (folder, common) = try await Self.closedIncident(["sentinel": sentinel.settings])
        defer { withExtendedLifetime(folder) {} }

        let commented = try await AutomatorProcess.run(["action", "run", "sentinel.comment", "--param", "incident=\(Self.name)",
                                                        "--param", "message=Contained by tier 2."] + common)
        #expect(commented.status == 0, "\(commented.stdout)\(commented.stderr)")
        let id = try #require(commented.stdout.split(separator: " ").first.map(String.init))
        let shown = try await AutomatorProcess.run(["action", "show", id, "--json"] + common.dropFirst(2))
        let key = try #require((try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])?[
            "idempotency_key"] as? String, "\(shown.stdout)\(shown.stderr)")
        let hex = SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined()
        let uuid = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4),
                    hex.dropFirst(20).prefix(12)].joined(separator: "-")
        #expect(sentinel.comments(of: Self.name) == [uuid: "Contained by tier 2."])
        #expect(sentinel.received.lines.contains { $0.hasPrefix("PUT \(LoopbackSentinel.path)/incidents/\(Self.name)/comments/\(uuid)?") })
    }

    @Test("resolve_alert PATCHes the alert resolved and comments, once; its undo sets it back in progress; a Reader is told the permission")
    func resolvesDefenderAlert() async throws {
        let graph = try await LoopbackGraph()
        defer { graph.stop() }
        graph.publish([#"{"id": "\#(Self.alertID)", "title": "Suspicious execution of hidden file", "status": "new", "comments": []}"#])
        let (folder, common) = try await Self.closedIncident(["defender": graph.settings])
        defer { withExtendedLifetime(folder) {} }
        let resolve = ["action", "run", "defender.resolve_alert", "--param", "alert=\(Self.alertID)",
                       "--param", "classification=truePositive", "--param", "determination=malware",
                       "--param", "comment=Closed in Automator as INC-1: cleaned"] + common

        let resolved = try await AutomatorProcess.run(resolve)
        #expect(resolved.status == 0, "\(resolved.stdout)\(resolved.stderr)")
        let patch = try #require(graph.received.all.first { $0.line.hasPrefix("PATCH /v1.0/security/alerts_v2/") })
        #expect(patch.json as NSDictionary == ["status": "resolved", "classification": "truePositive", "determination": "malware"],
                "\(patch.body)")
        let alert = try #require(graph.alert(Self.alertID))
        #expect(alert["status"] as? String == "resolved"
            && (alert["comments"] as? [[String: Any]])?.map { $0["comment"] as? String } == ["Closed in Automator as INC-1: cleaned"])

        // Sent again (a replay after a crash, or by hand): resolved already, and holding the comment.
        let again = try await AutomatorProcess.run(resolve.map { $0 == "determination=malware" ? "determination=phishing" : $0 })
        #expect(again.status == 0 && again.stdout.contains(#""closed_before":true"#)
            && again.stdout.contains(#""commented":false"#), "\(again.stdout)\(again.stderr)")
        #expect((graph.alert(Self.alertID)?["comments"] as? [Any])?.count == 1
            && graph.alert(Self.alertID)?["determination"] as? String == "malware", "left as it was resolved")
        #expect(graph.received.lines.filter { $0.hasPrefix("PATCH ") }.count == 1)

        let id = try #require(resolved.stdout.split(separator: " ").first.map(String.init))
        let undone = try await AutomatorProcess.run(["action", "undo", id] + common.dropFirst(2))
        #expect(undone.status == 0, "\(undone.stdout)\(undone.stderr)")
        #expect(graph.alert(Self.alertID)?["status"] as? String == "inProgress")

        graph.readOnly(true)
        let reader = try await AutomatorProcess.run(resolve)
        #expect(reader.status == 1 && reader.stderr.contains("Microsoft Graph, resolve: 403 Forbidden: Missing application "
            + "roles. API required roles: SecurityAlert.ReadWrite.All. (grant the application SecurityAlert.ReadWrite.All, "
            + "with admin consent)"), "\(reader.stderr)")
        let unfit = try await AutomatorProcess.run(resolve.map { $0 == "classification=truePositive" ? "classification=falsePositive" : $0 })
        #expect(unfit.status == 1 && unfit.stderr.contains(#"falsePositive takes clean, insufficientData, other as its "#
            + #"determination, got "malware""#), "\(unfit.stderr)")
    }

    @Test("close_alert PATCHes the Falcon alert closed, tagged with the resolution and commented, once; its undo reopens it")
    func closesFalconAlert() async throws {
        let falcon = try await LoopbackFalcon()
        defer { falcon.stop() }
        falcon.publish([#"{"composite_id": "\#(Self.falconID)", "status": "new", "tags": [], "updated_timestamp": "2026-11-30T02:14:09.902Z"}"#])
        let (folder, common) = try await Self.closedIncident(["crowdstrike": falcon.settings])
        defer { withExtendedLifetime(folder) {} }
        let close = ["action", "run", "crowdstrike.close_alert", "--param", "alert=\(Self.falconID)",
                     "--param", "resolution=false_positive", "--param", "comment=Closed in Automator as INC-1: a scanner"] + common

        let closed = try await AutomatorProcess.run(close)
        #expect(closed.status == 0 && closed.stdout.contains("  done  crowdstrike.close_alert  INC-1"),
                "\(closed.stdout)\(closed.stderr)")
        let patch = try #require(falcon.received.all.first { $0.line.hasPrefix("PATCH /alerts/entities/alerts/v3") })
        #expect(patch.headers["authorization"] == "Bearer \(LoopbackFalcon.token)")
        #expect(patch.json["composite_ids"] as? [String] == [Self.falconID])
        #expect(patch.json["action_parameters"] as? [[String: String]] == [
            ["name": "update_status", "value": "closed"], ["name": "add_tag", "value": "automator/false_positive"],
            ["name": "append_comment", "value": "Closed in Automator as INC-1: a scanner"],
        ], "\(patch.body)")
        let alert = try #require(falcon.alert(Self.falconID))
        #expect(alert["status"] as? String == "closed" && alert["tags"] as? [String] == ["automator/false_positive"]
            && alert["comments"] as? [String] == ["Closed in Automator as INC-1: a scanner"], "\(alert)")

        // Sent again (a replay after a crash, or by hand): closed already, left as it is, no second comment.
        let again = try await AutomatorProcess.run(close.map { $0 == "resolution=false_positive" ? "resolution=benign" : $0 })
        #expect(again.status == 0 && again.stdout.contains(#""closed_before":true"#), "\(again.stdout)\(again.stderr)")
        #expect(falcon.received.lines.filter { $0.hasPrefix("PATCH ") }.count == 1)

        let id = try #require(closed.stdout.split(separator: " ").first.map(String.init))
        let undone = try await AutomatorProcess.run(["action", "undo", id] + common.dropFirst(2))
        #expect(undone.status == 0, "\(undone.stdout)\(undone.stderr)")
        let reopened = try #require(falcon.alert(Self.falconID))
        #expect(reopened["status"] as? String == "reopened" && reopened["tags"] as? [String] == [], "\(reopened)")
    }

    @Test("close_alert without the Alerts: write scope says so; an unknown alert or resolution is refused, nothing changed")
    func falconRefusals() async throws {
        let falcon = try await LoopbackFalcon()
        defer { falcon.stop() }
        falcon.publish([#"{"composite_id": "\#(Self.falconID)", "status": "new", "updated_timestamp": "2026-11-30T02:14:09.902Z"}"#])
        let (folder, common) = try await Self.closedIncident(["crowdstrike": falcon.settings])
        defer { withExtendedLifetime(folder) {} }
        let close = { (alert: String, resolution: String) in
            ["action", "run", "crowdstrike.close_alert", "--param", "alert=\(alert)", "--param", "resolution=\(resolution)"] + common
        }

        falcon.alertsWritable(false)
        let reader = try await AutomatorProcess.run(close(Self.falconID, "benign"))
        #expect(reader.status == 1 && reader.stderr.contains("CrowdStrike Falcon, close: 403 access denied, authorization "
            + "failed (give the API client the Alerts: write scope)"), "\(reader.stderr)")
        #expect(falcon.alert(Self.falconID)?["status"] as? String == "new")

        falcon.alertsWritable(true)
        let unknown = try await AutomatorProcess.run(close("cid:ind:gone", "benign"))
        #expect(unknown.status == 1 && unknown.stderr.contains("CrowdStrike Falcon, close: no alert cid:ind:gone: check its "
            + "composite id (the incident's source_ref)"), "\(unknown.stderr)")
        let requests = falcon.received.all.count
        let unfit = try await AutomatorProcess.run(close(Self.falconID, "malicious"))
        #expect(unfit.status == 1 && unfit.stderr.contains(#"resolution must be true_positive, benign, false_positive or "#
            + #"undetermined, got "malicious""#), "\(unfit.stderr)")
        #expect(falcon.received.all.count == requests, "refused before anything is sent")
        #expect(falcon.received.lines.filter { $0.hasPrefix("PATCH ") }.count == 1, "only the one refused for its scope")
        #expect(falcon.alert(Self.falconID)?["status"] as? String == "new")
    }

    @Test("close_issue takes the transition to a done status with the comment in it, once; its undo reopens the issue")
    func closesJiraIssue() async throws {
        let jira = try await LoopbackJira()
        defer { jira.stop() }
        jira.file("SEC-7")
        let (folder, common) = try await Self.closedIncident(["jira": jira.settings])
        defer { withExtendedLifetime(folder) {} }
        let close = ["action", "run", "jira.close_issue", "--param", "issue=SEC-7",
                     "--param", "comment=Closed in Automator as INC-1: a scanner"] + common

        let closed = try await AutomatorProcess.run(close)
        #expect(closed.status == 0 && closed.stdout.contains("  done  jira.close_issue  INC-1"), "\(closed.stdout)\(closed.stderr)")
        #expect(jira.received.lines == ["GET /rest/api/2/issue/SEC-7?fields=status", "GET /rest/api/2/issue/SEC-7/transitions",
                                        "POST /rest/api/2/issue/SEC-7/transitions"])
        let moved = try #require(jira.received.last)
        #expect(moved.headers["authorization"] == LoopbackJira.authorization)
        #expect((moved.json["transition"] as? [String: String]) == ["id": "31"], "Done, the first to a done status: \(moved.body)")
        #expect(jira.issue("SEC-7")?.status == "Done" && jira.issue("SEC-7")?.comments == ["Closed in Automator as INC-1: a scanner"])

        // Sent again: done already, left as it is, no second comment.
        let again = try await AutomatorProcess.run(close)
        #expect(again.status == 0 && again.stdout.contains(#""closed_before":true"#), "\(again.stdout)\(again.stderr)")
        #expect(jira.received.lines.filter { $0.hasPrefix("POST ") }.count == 1 && jira.issue("SEC-7")?.comments.count == 1)

        let id = try #require(closed.stdout.split(separator: " ").first.map(String.init))
        let undone = try await AutomatorProcess.run(["action", "undo", id] + common.dropFirst(2))
        #expect(undone.status == 0, "\(undone.stdout)\(undone.stderr)")
        #expect(jira.issue("SEC-7")?.status == "To Do")

        // A team whose workflow has two done statuses names the one it closes with.
        jira.file("SEC-8")
        var settings = jira.settings
        settings["done_transition"] = "Won't Do"
        let (named, namedCommon) = try await Self.closedIncident(["jira": settings])
        defer { withExtendedLifetime(named) {} }
        let wontDo = try await AutomatorProcess.run(["action", "run", "jira.close_issue", "--param", "issue=SEC-8"] + namedCommon)
        #expect(wontDo.status == 0 && jira.issue("SEC-8")?.status == "Won't Do", "\(wontDo.stdout)\(wontDo.stderr)")
    }

    @Test("close_issue refuses, saying what to do: an unknown issue, a workflow with no way to done, an account that may not transition")
    func jiraRefusals() async throws {
        let jira = try await LoopbackJira(workflow: .linear)
        defer { jira.stop() }
        jira.file("SEC-7")
        let (folder, common) = try await Self.closedIncident(["jira": jira.settings])
        defer { withExtendedLifetime(folder) {} }
        let close = { (issue: String) in ["action", "run", "jira.close_issue", "--param", "issue=\(issue)"] + common }

        let unknown = try await AutomatorProcess.run(close("SEC-99"))
        #expect(unknown.status == 1 && unknown.stderr.contains("Jira, close: 404 no issue SEC-99, or the account may not browse it"),
                "\(unknown.stderr)")
        let linear = try await AutomatorProcess.run(close("SEC-7"))
        #expect(linear.status == 1 && linear.stderr.contains("Jira, close: no transition of SEC-7 leads to a done status; it "
            + "offers Start Progress (to In Progress): move it in Jira"), "\(linear.stderr)")
        jira.mayTransition(false)
        let forbidden = try await AutomatorProcess.run(close("SEC-7"))
        #expect(forbidden.status == 1 && forbidden.stderr.contains("it offers none to this account (give it the project's "
            + "Transition issues permission)"), "\(forbidden.stderr)")
        #expect(jira.issue("SEC-7")?.status == "To Do" && !jira.received.lines.contains { $0.hasPrefix("POST ") })
    }
}
