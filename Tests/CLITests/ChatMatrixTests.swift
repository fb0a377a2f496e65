import Foundation
import TestSupport
import Testing

@Suite("The bot in Matrix, through a real automator serve and a real Synapse", .timeLimit(.minutes(3)))
struct ChatMatrixTests {
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts")

    /// A client-server API call as alice.
    @discardableResult
    static func call(_ synapse: Synapse, _ alice: Synapse.Account, _ method: String, _ path: String,
                     _ json: [String: any Sendable]? = nil) async throws -> [String: Any]
    {
        try await synapse.call(method, "/_matrix/client/v3" + path, token: alice.accessToken, json: json)
    }

    static func segment(_ id: String) -> String { id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? id }

    /// Sends a text as alice; `thread` makes it a reply in that thread.
    static func say(_ text: String, in room: String, as alice: Synapse.Account, on synapse: Synapse,
                    thread: String? = nil) async throws -> String
    {
        var content: [String: any Sendable] = ["msgtype": "m.text", "body": text]
        if let thread {
            content["m.relates_to"] = ["rel_type": "m.thread", "event_id": thread, "is_falling_back": true,
                                       "m.in_reply_to": ["event_id": thread]] as [String: any Sendable]
        }
        let path = "/rooms/\(segment(room))/send/m.room.message/\(UUID().uuidString)"
        return try #require(try await call(synapse, alice, "PUT", path, content)["event_id"] as? String)
    }

    /// The bot's messages in the room, oldest first, as alice reads them, once `until` holds (20 s
    /// at most). Read with /messages: Synapse answers a repeated initial /sync from a cache.
    static func botMessages(in room: String, by bot: String, as alice: Synapse.Account, on synapse: Synapse,
                            until done: ([[String: Any]]) -> Bool) async throws -> [[String: Any]]
    {
        var messages: [[String: Any]] = []
        for _ in 0..<400 {
            let page = try await call(synapse, alice, "GET", "/rooms/\(segment(room))/messages?dir=b&limit=100")
            let events = (page["chunk"] as? [[String: Any]] ?? []).reversed()
            messages = events.filter { $0["sender"] as? String == bot && $0["type"] as? String == "m.room.message" }
            if done(messages) { return messages }
            try await Task.sleep(for: .milliseconds(50))
        }
        return messages
    }

    /// A folder with the bad-IP feed and a configuration for `bot`, whose approver is alice.
    static func configured(bot: Synapse.Account, alice: Synapse.Account, on synapse: Synapse) throws -> TemporaryFolder {
        let folder = try TemporaryFolder()
        try folder.write("feeds/bad.txt", "203.0.113.45 C2 of the Acme campaign\n")
        try folder.write("automator.yml", """
            feeds:
              - { name: bad-ips, path: feeds/bad.txt, verdict: malicious }
            chat:
              roles:
                analyst: ["\(alice.id)"]
                approver: ["\(alice.id)"]
              matrix:
                homeserver: \(synapse.url)
                user: "\(bot.id)"
                password: "\(bot.password)"
                invites_from: ["\(alice.id)"]
            """)
        return folder
    }

    /// A bot and alice, newly registered on the shared Synapse, and a folder configured for them.
    static func newTeam() async throws
        -> (synapse: Synapse, bot: Synapse.Account, alice: Synapse.Account, folder: TemporaryFolder)
    {
        let synapse = try await Synapse.shared()
        let bot = try await synapse.register("bot\(UInt16.random(in: 1000...9999))")
        let alice = try await synapse.register("alice\(UInt16.random(in: 1000...9999))")
        return (synapse, bot, alice, try configured(bot: bot, alice: alice, on: synapse))
    }

    /// `automator serve` with the folder's configuration and its own data folder.
    static func serve(_ folder: TemporaryFolder) async throws -> ServerProcess {
        try await ServerProcess.start(data: folder.url.appendingPathComponent("data"), scripts: scripts, arguments:
            ["--executors", "1", "--config", folder.url.appendingPathComponent("automator.yml").path])
    }

    /// Alice's new room `soc`, once the bot has accepted her invitation.
    static func room(with bot: Synapse.Account, as alice: Synapse.Account, on synapse: Synapse) async throws -> String {
        let room = try #require(try await call(synapse, alice, "POST", "/createRoom",
                                               ["name": "soc", "invite": [bot.id], "preset": "private_chat"])["room_id"]
            as? String)
        for _ in 0..<400 {
            let members = try await call(synapse, alice, "GET", "/rooms/\(segment(room))/joined_members")
            if (members["joined"] as? [String: Any])?[bot.id] != nil { return room }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the bot did not accept the invitation")
        return room
    }

    @Test("Invited to a room, the bot answers !ip in the thread, and an approval waits for alice's reply")
    func matrix() async throws {
        let (synapse, bot, alice, folder) = try await Self.newTeam()
        let server = try await Self.serve(folder)

        let room = try await Self.room(with: bot, as: alice, on: synapse)
        let asked = try await Self.say("!ip 203.0.113.45", in: room, as: alice, on: synapse)
        let answers = try await Self.botMessages(in: room, by: bot.id, as: alice, on: synapse) { !$0.isEmpty }
        let answer = try #require(answers.first?["content"] as? [String: Any], "the server's log:\n\(server.log)")
        #expect((answer["body"] as? String)?.contains("C2 of the Acme campaign") == true, "\(answer)")
        #expect((answer["m.relates_to"] as? [String: Any])?["event_id"] as? String == asked, "answered in its thread")

        let run = try await server.submit(#"{"source": "return chat.approve('soc', 'Block 203.0.113.45?', { network = 'matrix' })"}"#)
        let posted = try await Self.botMessages(in: room, by: bot.id, as: alice, on: synapse) { $0.count >= 2 }
        let question = try #require(posted.last)
        #expect((question["content"] as? [String: Any])?["body"] as? String != nil)
        _ = try await Self.say("1", in: room, as: alice, on: synapse, thread: try #require(question["event_id"] as? String))
        let ended = try await server.waitForRun(run)
        #expect(ended["status"] as? String == "completed", "\(ended)")
        let result = ended["result"] as? [Any]
        #expect(result?.first as? Bool == true && result?.last as? String == "matrix:" + alice.id,
                "approved by alice: \(ended)")
        server.terminate()
        _ = await server.waitForExit()
    }

    @Test("Two workers on one PostgreSQL: the leader alone receives from Matrix, an approval asked on the other is answered through it, and when the leader dies the other receives")
    func twoWorkers() async throws {
        let (synapse, bot, alice, folder) = try await Self.newTeam()
        let store = try await PostgresServer.shared().makeDatabase()
        func start(_ name: String) async throws -> ServerProcess {
            try await ServerProcess.start(
                data: folder.url.appendingPathComponent(name), scripts: Self.scripts,
                arguments: ["--executors", "1", "--config", folder.url.appendingPathComponent("automator.yml").path,
                            "--store", store, "--lease", "2s"])
        }
        let leader = try await start("first")
        for _ in 0..<200 where !leader.log.contains("leads the workers") { try await Task.sleep(for: .milliseconds(50)) }
        #expect(leader.log.contains("leads the workers"), "\(leader.log)")
        let other = try await start("second")
        let room = try await Self.room(with: bot, as: alice, on: synapse)
        // Each worker logs in as a device of its own: a homeserver may log out the other sessions
        // of a device that logs in again.
        let database = try #require(URLComponents(string: store)?.path.dropFirst())
        var devices: Set<Substring> = []
        for _ in 0..<100 where devices.count < 2 {
            devices = Set(try await PostgresServer.shared().psql(
                "SELECT value FROM chat_state WHERE key LIKE 'matrix.%.device of %'", database: String(database)
            ).split(whereSeparator: \.isNewline))
            if devices.count < 2 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(devices.count == 2, "\(devices)")
        func verdicts() async throws -> Int {
            try await Self.botMessages(in: room, by: bot.id, as: alice, on: synapse) { _ in true }
                .filter { (($0["content"] as? [String: Any])?["body"] as? String)?.contains("C2 of the Acme campaign") == true }
                .count
        }

        _ = try await Self.say("!ip 203.0.113.45", in: room, as: alice, on: synapse)
        _ = try await Self.botMessages(in: room, by: bot.id, as: alice, on: synapse) { !$0.isEmpty }
        try await Task.sleep(for: .seconds(2))
        #expect(try await verdicts() == 1, "answered once, by the leader")

        let run = try await other.submit(#"{"source": "return chat.approve('soc', 'Block 203.0.113.45?', { network = 'matrix' })"}"#)
        let posted = try await Self.botMessages(in: room, by: bot.id, as: alice, on: synapse) { $0.count >= 2 }
        let question = try #require(posted.last?["event_id"] as? String)
        _ = try await Self.say("1", in: room, as: alice, on: synapse, thread: question)
        let ended = try await other.waitForRun(run, timeout: 10)
        #expect(ended["status"] as? String == "completed" && (ended["result"] as? [Any])?.first as? Bool == true,
                "the leader took alice's reply, and the run on the other worker went on: \(ended)")

        leader.kill()
        #expect(await leader.waitForExit() == SIGKILL)
        _ = try await Self.say("!ip 203.0.113.45", in: room, as: alice, on: synapse)
        var answered = 0
        for _ in 0..<100 where answered < 2 {
            answered = try await verdicts()
            if answered < 2 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(answered == 2, "the other worker leads and answers: \(other.log)")
        other.terminate()
        #expect(await other.waitForExit() == 0)
    }

    /// Matrix's entry in `/healthz` once `done` holds for it (30 s at most); nil, when not `required`, if it never does.
    @discardableResult
    static func matrixHealth(_ server: ServerProcess, required: Bool = true, until done: ([String: Any]) -> Bool)
        async throws -> [String: Any]?
    {
        var matrix: [String: Any] = [:]
        for _ in 0..<300 {
            let health = try await server.call("GET", "/healthz", credentials: .none)
            matrix = (health.json["chat"] as? [[String: Any]])?.first { $0["network"] as? String == "matrix" } ?? [:]
            if done(matrix) { return matrix }
            try await Task.sleep(for: .milliseconds(100))
        }
        if required { Issue.record("/healthz never said \(matrix) as expected; the server's log:\n\(server.log)") }
        return required ? matrix : nil
    }

    @Test("""
        The homeserver goes away and comes back: the log says so once with the real wait, then that it is back; \
        /healthz and /metrics show the connection and the last event
        """)
    func homeserverAway() async throws {
        let (synapse, bot, alice, folder) = try await Self.newTeam()
        let server = try await Self.serve(folder)
        let connected = try await Self.matrixHealth(server) { $0["connected"] as? Bool == true }
        let since = try #require(connected?["since"] as? String)
        _ = try await Self.room(with: bot, as: alice, on: synapse)
        let invited = try await Self.matrixHealth(server) { $0["last_event"] is String }
        #expect(invited?["connected"] as? Bool == true && invited?["problem"] is NSNull, "\(String(describing: invited))")

        // A restart the bot does not notice is tried again: a sync sent while Synapse is down waits in the
        // HTTP client's connection retries, and fails only if Synapse stays away past its deadline.
        var away: [String: Any]?
        for _ in 0..<3 where away == nil {
            let restarting = Task { try await synapse.restart() }
            away = try await Self.matrixHealth(server, required: false) { $0["connected"] as? Bool == false }
            if away != nil {
                #expect(try await server.call("GET", "/metrics").body
                    .contains(#"automator_chat_connected{network="matrix"} 0"#))
            }
            try await restarting.value
        }
        #expect((away?["problem"] as? String)?.contains("Matrix homeserver") == true, "\(String(describing: away))")
        let back = try await Self.matrixHealth(server) { $0["connected"] as? Bool == true }
        #expect((back?["since"] as? String).map { $0 > since } == true, "connected since it came back: \(String(describing: back))")
        let metrics = try await server.call("GET", "/metrics").body
        #expect(metrics.contains(#"automator_chat_connected{network="matrix"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"automator_chat_last_event_timestamp_seconds{network="matrix"} 1"#), "\(metrics)")

        let lost = server.log.split(separator: "\n").filter { $0.contains("Matrix: ") && $0.contains("trying again in") }
        #expect(lost.count == 1, "the loss is told once: \(server.log)")
        #expect(lost.first?.contains("trying again in 1s, then less and less often") == true, "\(lost)")
        #expect(server.log.components(separatedBy: "Matrix: connected again, after ").count == 2, "\(server.log)")
        #expect(!server.log.contains("chat matrix:"), "one line, not one per loop: \(server.log)")
    }

    @Test("A homeserver that does not answer at the start is told once, not once per loop, and /healthz says why")
    func homeserverDownAtStart() async throws {
        let (synapse, _, _, folder) = try await Self.newTeam()
        let config = folder.url.appendingPathComponent("automator.yml")
        let nowhere = "http://127.0.0.1:\(try FreePort.onLoopback())"
        try String(contentsOf: config, encoding: .utf8).replacingOccurrences(of: synapse.url, with: nowhere)
            .write(to: config, atomically: true, encoding: .utf8)
        let server = try await Self.serve(folder)
        let away = try await Self.matrixHealth(server) { $0["problem"] is String }
        #expect(away?["connected"] as? Bool == false && away?["last_event"] is NSNull, "\(String(describing: away))")
        try await Task.sleep(for: .seconds(4))  // the attempts at 1 s, 2 s and 4 s
        let told = server.log.split(separator: "\n").filter { $0.contains("cannot reach the Matrix homeserver") }
        #expect(told.count == 1, "\(server.log)")
        #expect(told.first?.contains("trying again in 1s") == true, "\(told)")
    }
}
