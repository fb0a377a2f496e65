@testable import AutomatorRuntime
import Foundation
import TestSupport
import Testing

/// The report of `ReportFixture` (times in hours from 2026-03-01T00:00Z; the window is [0, 72),
/// now is 84), every figure computed by hand in the comments.
@Suite("Reports: the figures of a fixture computed by hand, the renderers, the window")
struct ReportTests {
    /// The fixture's report, from `kind` of store.
    static func fixture(_ kind: StoreUnderTest = .sqlite) async throws -> Report {
        try await withFixture(kind) { store in try await store.report(ReportFixture.window, at: ReportFixture.now) }
    }

    /// `body`'s answer on a store holding the fixture.
    static func withFixture<T>(_ kind: StoreUnderTest = .sqlite, _ body: (any ReportStore) async throws -> T)
        async throws -> T
    {
        let open = try await kind.opener()  // holds the SQLite store's folder
        let store = try #require(try await open() as? any ReportStore & JournalStore)
        try await ReportFixture.fill(store)
        let result: Result<T, any Error>
        do { result = .success(try await body(store)) } catch { result = .failure(error) }
        await store.close()
        withExtendedLifetime(open) {}
        return try result.get()
    }

    @Test("Incidents per day, type, severity and status", arguments: StoreUnderTest.allCases)
    func incidents(_ store: StoreUnderTest) async throws {
        let report = try await Self.fixture(store)
        #expect(report.window == ReportFixture.window)
        #expect(report.generatedAt == ReportFixture.now)
        // Opened in [0, 72): INC-1..9 and INC-12 (INC-10 at -24 and INC-11 at 73 are outside).
        // Day 1 [0, 24): opened 1, 2, 3, 4; closed INC-1 at 5, INC-10 at 12, INC-4 at 22.
        // Day 2 [24, 48): opened 5, 6, 12; closed INC-2 at 30.
        // Day 3 [48, 72): opened 7, 8, 9; closed INC-8 at 61 (INC-12 at 75, INC-7 at 80: after).
        #expect(report.days == [Report.Day(date: "2026-03-01", opened: 4, closed: 3),
                                Report.Day(date: "2026-03-02", opened: 3, closed: 1),
                                Report.Day(date: "2026-03-03", opened: 3, closed: 1)])
        // malware: opened 4, 5, 6, 7, closed 4; phishing: opened 1, 2, 3, closed 1, 2, 10;
        // access: opened 8, 9, 12, closed 8. Most opened first, then most closed.
        #expect(report.types == [Report.Breakdown(name: "malware", opened: 4, closed: 1),
                                 Report.Breakdown(name: "phishing", opened: 3, closed: 3),
                                 Report.Breakdown(name: "access", opened: 3, closed: 1)])
        // critical: 4 | 4; high: 1, 5, 6 | 1, 10; medium: 2, 7, 12 | 2; low: 3, 8 | 8; info: 9 | none.
        #expect(report.severities == [Report.Breakdown(name: "critical", opened: 1, closed: 1),
                                      Report.Breakdown(name: "high", opened: 3, closed: 2),
                                      Report.Breakdown(name: "medium", opened: 3, closed: 1),
                                      Report.Breakdown(name: "low", opened: 2, closed: 1),
                                      Report.Breakdown(name: "info", opened: 1, closed: 0)])
        // new: 5; active: 3, 9; pending: 6; closed: 1, 2, 4, 7, 8, 12 (INC-12 after the window).
        #expect(report.statuses == [Report.Tally(name: "new", count: 1), Report.Tally(name: "active", count: 2),
                                    Report.Tally(name: "pending", count: 1), Report.Tally(name: "closed", count: 6)])
        // Open at 0: INC-10 (opened at -24, closed at 12). Open at 72: INC-3, 5, 6 and 9, INC-7
        // (closed at 80) and INC-12 (at 75); not INC-11, opened at 73.
        #expect(report.openAtStart == 1 && report.openAtEnd == 6)
    }

    @Test("Closed incidents by resolution per type, and the false positives' share of the resolved",
          arguments: StoreUnderTest.allCases)
    func resolutions(_ store: StoreUnderTest) async throws {
        let report = try await Self.fixture(store)
        // Closed in [0, 72): phishing INC-1 (false positive), INC-2 (true positive), INC-10 (false
        // positive); malware INC-4 (true positive); access INC-8 (benign). INC-12 (undetermined)
        // and INC-7 (none) closed after the window. Most closed first, then by type.
        #expect(report.resolutions == [Report.Resolutions(type: "phishing", truePositive: 1, falsePositive: 2),
                                       Report.Resolutions(type: "access", benign: 1),
                                       Report.Resolutions(type: "malware", truePositive: 1)])
        let markdown = ReportFormat.markdown.render(report)
        #expect(markdown.contains("## Closed incidents by resolution\n\n| Type | True positive | Benign | False positive "
            + "| Undetermined | Not said | False positives (of resolved) |\n"), "\(markdown)")
        #expect(markdown.contains("| phishing | 1 | 0 | 2 | 0 | 0 | 67% |\n| access | 0 | 1 | 0 | 0 | 0 | 0% |\n"),
                "\(markdown)")
        #expect(ReportFormat.html.render(report).contains(#"<tr><th scope="row">phishing</th><td>1</td><td>0</td><td>2</td>"#
            + "<td>0</td><td>0</td><td>67%</td></tr>"))
        let json = ReportJSON.encode(report)
        #expect(json.contains(#""false_positive" : 2"#) && json.contains(#""resolutions" : ["#), "\(json)")
        let csv = ReportFormat.csv.render(report)
        #expect(csv.contains("resolution,phishing,false_positive,2\r\nresolution,phishing,undetermined,0\r\n"), "\(csv)")
    }

    @Test("SLA met, breached, at risk and on track per type", arguments: StoreUnderTest.allCases)
    func sla(_ store: StoreUnderTest) async throws {
        let report = try await Self.fixture(store)
        // access: INC-8 closed 61 <= due 70, met; INC-12 closed 75 > due 48, breached.
        // malware: INC-4 closed 22 <= 24, met; INC-5 open, 59 h of 175 gone (< 3/4), on track;
        //          INC-6 handled as breached at 40; INC-7 has no SLA.
        // phishing: INC-1 closed 5 <= 5, met; INC-2 closed 30 > 26, breached; INC-3 open, due 100,
        //           74 h of 90 gone (>= 67.5), at risk.
        #expect(report.sla == [Report.SLATally(type: "access", met: 1, breached: 1),
                               Report.SLATally(type: "malware", met: 1, breached: 1, onTrack: 1),
                               Report.SLATally(type: "phishing", met: 1, breached: 1, atRisk: 1)])
    }

    @Test("SLA by severity, and the breached incidents: the open ones first, then the latest, each late by how much",
          arguments: StoreUnderTest.allCases)
    func breaches(_ store: StoreUnderTest) async throws {
        let report = try await Self.fixture(store)
        // The states of `sla` above, by severity: critical INC-4 met; high INC-1 met, INC-6
        // breached, INC-5 on track; medium INC-2 and INC-12 breached (INC-7 has no SLA); low
        // INC-8 met, INC-3 at risk; info: INC-9 has no SLA.
        #expect(report.slaBySeverity == [Report.SeveritySLA(severity: "critical", met: 1),
                                         Report.SeveritySLA(severity: "high", met: 1, breached: 1, onTrack: 1),
                                         Report.SeveritySLA(severity: "medium", breached: 2),
                                         Report.SeveritySLA(severity: "low", met: 1, atRisk: 1)])
        // INC-6 open, due 40, now 84: 44 h late; INC-12 closed 75, due 48: 27 h; INC-2 closed 30,
        // due 26: 4 h.
        #expect(report.breached == [
            Report.BreachedIncident(id: "INC-6", type: "malware", severity: "high", due: ReportFixture.hour(40),
                                    closedAt: nil, late: 44 * 3600),
            Report.BreachedIncident(id: "INC-12", type: "access", severity: "medium", due: ReportFixture.hour(48),
                                    closedAt: ReportFixture.hour(75), late: 27 * 3600),
            Report.BreachedIncident(id: "INC-2", type: "phishing", severity: "medium", due: ReportFixture.hour(26),
                                    closedAt: ReportFixture.hour(30), late: 4 * 3600),
        ])
    }

    @Test("The breached list: late by the due time it breached when the severity was lowered since; at most 100, the open first")
    func breachedList() {
        var tally = ReportTally()
        let ms = { (hours: Double) in ReportFixture.hour(hours).millisecondsSince1970 }
        // Breached at 10, then its severity lowered moved the due time to 30; closed at 20: 10 h late.
        tally.breached(number: 1, type: "phishing", severity: "low", due: ms(30), breachedAt: ms(10), closed: ms(20))
        // 104 closed ones, 1 to 104 minutes late, and one still open, 1 minute late at 84.
        for minutes in 1...104 {
            tally.breached(number: 100 + minutes, type: "malware", severity: "high", due: ms(40),
                           breachedAt: ms(40), closed: ms(40) + Int64(minutes) * 60_000)
        }
        tally.breached(number: 999, type: "access", severity: "info", due: ms(84) - 60_000, breachedAt: nil, closed: nil)
        let report = tally.finish(window: ReportFixture.window, days: ReportDays(ReportFixture.window),
                                  generatedAt: ReportFixture.now)
        #expect(report.breached.count == Report.breachedListed)
        #expect(report.breached.first == Report.BreachedIncident(id: "INC-999", type: "access", severity: "info",
                                                                 due: ReportFixture.hour(84 - 1.0 / 60), closedAt: nil,
                                                                 late: 60))
        #expect(report.breached[1].id == "INC-1" && report.breached[1].due == ReportFixture.hour(10)
            && report.breached[1].late == 10 * 3600)
        #expect(report.breached.dropFirst(2).map(\.id) == (7...104).reversed().map { "INC-\(100 + $0)" })
    }

    @Test("Time to acknowledge and to resolve: median, mean and p90", arguments: StoreUnderTest.allCases)
    func timings(_ store: StoreUnderTest) async throws {
        let report = try await Self.fixture(store)
        // The first act of a person, from creation: INC-1 cli:alice at 3 (the playbook's note at
        // 1.1 does not count): 2 h; INC-2 slack:bob at 4: 2 h; INC-4 api's note at 20.5: 0.5 h;
        // INC-6 cli:carol at 36: 6 h; INC-7 cli:alice at 80 (automator at 50 does not count):
        // 30 h; INC-9 cli:dave at 71: 1 h; INC-12 slack:bob at 44: 4 h. Never: INC-3 (automator,
        // script), INC-5 (a duplicate alert by api), INC-8 (its playbook closed it).
        // 7 incidents, 45.5 h in all: mean 6.5 h = 23,400 s; sorted 0.5 1 2 2 4 6 30, the median
        // the 4th: 2 h = 7,200 s; p90 at rank ceil(6.3) = 7: 30 h = 108,000 s.
        #expect(report.acknowledge == Report.Timing(count: 7, median: 7_200, mean: 23_400, p90: 108_000))
        // Closed: INC-1 4 h, INC-2 28 h, INC-4 2 h, INC-7 30 h, INC-8 1 h, INC-12 35 h: 100 h in
        // all, mean 60,000 s; sorted 1 2 4 28 30 35, the median between the 3rd and the 4th: 16 h =
        // 57,600 s; p90 at rank ceil(5.4) = 6: 35 h = 126,000 s.
        #expect(report.resolve == Report.Timing(count: 6, median: 57_600, mean: 60_000, p90: 126_000))
    }

    @Test("Indicators, playbook runs and tasks per owner", arguments: StoreUnderTest.allCases)
    func indicatorsRunsTasks(_ store: StoreUnderTest) async throws {
        let report = try await Self.fixture(store)
        // Last seen in the window: two malicious (at 10 and 30), a suspicious URL, a benign hash,
        // an unknown IP; old.example (at -5) is outside.
        #expect(report.verdicts == [Report.Tally(name: "malicious", count: 2), Report.Tally(name: "suspicious", count: 1),
                                    Report.Tally(name: "benign", count: 1), Report.Tally(name: "unknown", count: 1)])
        #expect(report.indicators.map(\.value) == ["examp1e.com", "203.0.113.7", "http://examp1e.com/login",
                                                   String(repeating: "ab", count: 32), "198.51.100.1"])
        #expect(report.indicators.first == Report.TopIndicator(type: "domain", value: "examp1e.com", verdict: "malicious",
                                                               summary: "malicious: fixture",
                                                               lastSeen: ReportFixture.hour(30)))
        // Playbook runs started in the window, by the playbook's name whatever its file:
        // phishing completed (INC-1), failed (INC-2), waiting (INC-3); malware completed
        // (INC-4), diverged (INC-6), killed (INC-7); a run stored before names were kept, by its
        // file (INC-8). Not counted: INC-10's run (at -24), a plain script, an SLA hook.
        #expect(report.playbooks == [
            Report.PlaybookOutcome(playbook: "malware", completed: 1, failed: 1, killed: 1),
            Report.PlaybookOutcome(playbook: "phishing", completed: 1, failed: 1, unfinished: 1),
            Report.PlaybookOutcome(playbook: "playbooks/access.lua", completed: 1),
        ])
        // Tasks created in the window (T-6, at -10, is not): tier1 T-1 done, T-2 open due 50 <
        // 84, overdue; tier2 T-3 open due 100, T-4 open without a due time, T-7 done; nobody's
        // T-5 open due 80, overdue. Nobody last.
        #expect(report.owners == [Report.OwnerTasks(owner: "tier1", open: 1, done: 1, overdue: 1),
                                  Report.OwnerTasks(owner: "tier2", open: 2, done: 1, overdue: 0),
                                  Report.OwnerTasks(owner: nil, open: 1, done: 0, overdue: 1)])
    }

    @Test("Response actions: outcomes, approvers, time to approval, in force", arguments: StoreUnderTest.allCases)
    func actions(_ store: StoreUnderTest) async throws {
        let report = try await Self.fixture(store)
        // Asked for in [0, 72) (ACT-10 at -10 and ACT-11 at 73 are outside): isolate_host done
        // (ACT-4), failed (ACT-5), refused (ACT-14), denied (ACT-6); block_ip done and still in force (ACT-1,
        // ACT-12), expired (ACT-2, undone by automator), undone (ACT-3 by cli:alice, ACT-13 by
        // cli:carol), timed out (ACT-7), a dry run (ACT-8), in flight (ACT-9).
        #expect(report.actions == [
            Report.ActionOutcome(action: "edr.isolate_host", done: 1, failed: 1, refused: 1, denied: 1),
            Report.ActionOutcome(action: "firewall.block_ip", done: 2, timedOut: 1, dryRun: 1, undone: 2, expired: 1,
                                 inFlight: 1),
        ])
        // slack:bob ACT-1 and ACT-5; slack:carol ACT-2; cli:alice ACT-3 and cli:carol ACT-13
        // (with --approve); the playbook's standing approval ACT-4. Most first, then by name.
        #expect(report.approvers == [Report.Tally(name: "slack:bob", count: 2), Report.Tally(name: "cli:alice", count: 1),
                                     Report.Tally(name: "cli:carol", count: 1), Report.Tally(name: "slack:carol", count: 1),
                                     Report.Tally(name: ActionRecord.standingApproval, count: 1)])
        // The question each action names: ACT-1 Q-1 0.5 h (not Q-0, before, nor Q-6, after, of
        // the same run); ACT-2 Q-2 2 h (answered after ACT-2 was recorded, by another worker's
        // clock); ACT-5 Q-3 3 h (not Q-3a, the run's chat.ask). Not ACT-3 (no question at a
        // terminal, nor ACT-13) nor ACT-4 (standing, though its run had approved Q-7).
        // 3 actions, 5.5 h: median 2 h = 7,200 s; mean 6,600 s; p90 at rank ceil(2.7) = 3: 3 h = 10,800 s.
        #expect(report.approval == Report.Timing(count: 3, median: 7_200, mean: 6_600, p90: 10_800))
        // Done and not undone, whenever run: block_ip ACT-1 and ACT-12 with a ttl, ACT-10 (at
        // -10) without; isolate_host ACT-11 (at 73) with, ACT-4 without.
        #expect(report.inForce == [
            Report.ActionsInForce(action: "edr.isolate_host", lifting: 1, untilUndone: 1, since: ReportFixture.hour(21)),
            Report.ActionsInForce(action: "firewall.block_ip", lifting: 2, untilUndone: 1, since: ReportFixture.hour(-10)),
        ])
    }

    @Test("A window with nothing in it: every day at zero, no timings", arguments: StoreUnderTest.allCases)
    func emptyWindow(_ store: StoreUnderTest) async throws {
        let window = ReportWindow(from: ReportFixture.hour(24 * 30), to: ReportFixture.hour(24 * 32))
        let report = try await Self.withFixture(store) { store in try await store.report(window, at: ReportFixture.now) }
        #expect(report.days.map(\.date) == ["2026-03-31", "2026-04-01"])
        #expect(report.days.allSatisfy { $0.opened == 0 && $0.closed == 0 })
        // Nothing opened nor closed, but a backlog: INC-3, 5, 6, 9 and 11, open across the window.
        #expect(report.openAtStart == 5 && report.openAtEnd == 5)
        #expect(report.types.isEmpty && report.sla.isEmpty && report.playbooks.isEmpty && report.owners.isEmpty)
        #expect(report.acknowledge == Report.Timing() && report.resolve == Report.Timing())
        #expect(report.actions.isEmpty && report.approvers.isEmpty && report.approval == Report.Timing())
        #expect(report.inForce.map(\.action) == ["edr.isolate_host", "firewall.block_ip"], "in force whenever run")
        for format in ReportFormat.allCases { #expect(!format.render(report).isEmpty) }
        // Each empty part of the actions says which it is: "None." thrice read as nothing at all.
        var none = report
        none.inForce = []
        let html = ReportFormat.html.render(none)
        #expect(html.contains("<p class=\"none\">Approved by nobody.</p>") && html.contains("<p class=\"none\">None in force now.</p>"))
    }

    @Test("The audit: who did what in the window, newest first, by actor or family of actors", arguments: StoreUnderTest.allCases)
    func audit(_ store: StoreUnderTest) async throws {
        try await Self.withFixture(store) { store in try await Self.audit(store) }
    }

    static func audit(_ store: any ReportStore) async throws {
        let all = try await store.audit(AuditQuery(window: ReportFixture.window))
        // 10 `created` entries (not INC-10's at -24 nor INC-11's at 73) and 15 others in [0, 72);
        // not in a journal: ACT-7 (on no incident) at 52, ACT-13 run at 40 and undone at 41,
        // ACT-14 refused at 15 (on INC-5: refusals are not journaled), Q-8 answered at 66 (of no
        // run), Q-9 at 6 (of a run on no incident). Not the other questions, whose runs are not
        // kept (on an incident, they are in its journal).
        #expect(all.count == 31)
        #expect(all.map(\.at) == all.map(\.at).sorted(by: >))
        #expect(all.first.map { [$0.incident?.description, $0.actor] } == ["INC-9", "cli:dave"])
        #expect(all.filter { $0.sequence == nil }.map(\.text) == [
            "Q-8 Approve?: approve", "ACT-7 timed_out: firewall.block_ip {}: \(ActionService.nobodyApproved)",
            "ACT-13 undone: firewall.block_ip {}", "ACT-13 done: firewall.block_ip {}, approved by cli:carol: {}",
            "ACT-14 refused: edr.isolate_host {}: host dc-1 is protected", "Q-9 Approve?: yes",
        ])
        #expect(all.filter { $0.sequence == nil }.map(\.incident) == [nil, nil, nil, nil, IncidentID(5), nil])
        // cli:dave at 71, cli:alice answering Q-8 at 66, cli:alice at 50 (INC-12), cli:carol
        // undoing ACT-13 at 41 and running it at 40, cli:carol at 36, cli:alice at 3 (INC-1);
        // not cli:alice at 80 nor at -20.
        let cli = try await store.audit(AuditQuery(window: ReportFixture.window, actor: "cli"))
        #expect(cli.map(\.actor) == ["cli:dave", "cli:alice", "cli:alice", "cli:carol", "cli:carol", "cli:carol",
                                     "cli:alice"])
        let bob = try await store.audit(AuditQuery(window: ReportFixture.window, actor: "slack:bob"))
        #expect(bob.map(\.at) == [ReportFixture.hour(44), ReportFixture.hour(6), ReportFixture.hour(4)])
        let playbooks = try await store.audit(AuditQuery(window: ReportFixture.window, actor: "playbook"))
        #expect(playbooks.map(\.incident) == [IncidentID(8), nil, IncidentID(5), IncidentID(1)])
        // `api` itself: 10 creations, INC-4's note, INC-5's alert; `ap` is nobody.
        #expect(try await store.audit(AuditQuery(window: ReportFixture.window, actor: "api")).count == 12)
        #expect(try await store.audit(AuditQuery(window: ReportFixture.window, actor: "ap")).isEmpty)
        #expect(try await store.audit(AuditQuery(window: ReportFixture.window, limit: 3)).count == 3)

        // Page by page, 4 at a time, through the cursor's text as the API takes it: the same list,
        // each entry once, though an entry is written at the top of the window after the first page.
        var paged: [AuditEntry] = []
        var query = AuditQuery(window: ReportFixture.window, limit: 4)
        repeat {
            let (page, next) = try await store.auditPage(query)
            paged += page
            if paged.count == 4 {
                try await store.write(.appendJournal([JournalEntry(incident: IncidentID(1), at: ReportFixture.hour(71.5),
                                                                   actor: "cli:erin", kind: .note, text: "meanwhile")]))
            }
            query.after = try next.map { try #require(AuditCursor($0.description)) }
        } while query.after != nil
        #expect(paged.map(\.text) == all.map(\.text))
        #expect(AuditCursor("not a cursor") == nil && AuditCursor("12.x.") == nil)
    }

    // MARK: Renderers

    @Test("JSON: a schema version, snake_case keys, ISO 8601 times, seconds; read back equal")
    func json() async throws {
        let report = try await Self.fixture()
        let json = ReportJSON.encode(report)
        #expect(json.hasPrefix("{\n  \"acknowledge\" : {") && json.contains(#""schema_version" : 1,"#))
        #expect(json.contains(#""open_at_end" : 6,"#) && json.contains(#""open_at_start" : 1,"#))
        #expect(json.contains(#""generated_at" : "2026-03-04T12:00:00Z""#))
        #expect(json.contains(#""at_risk" : 1"#))
        #expect(json.contains(#""median" : 7200"#) && json.contains(#""p90" : 108000"#))
        #expect(json.contains(#""timezone" : "UTC","#))
        #expect(json.contains(#""sla_by_severity" : ["#) && json.contains(#""breached_incidents" : ["#))
        #expect(json.contains(#""due" : "2026-03-02T16:00:00Z""#) && json.contains(#""late" : 158400"#))
        #expect(try ReportJSON.decode(json) == report)
        #expect(throws: ReportJSON.DecodingFailure.self) { try ReportJSON.decode(#"{"window": 1}"#) }
    }

    @Test("An older server's report, without the response actions: read, shown as not reported, passed on as sent")
    func olderServer() async throws {
        let report = try ReportJSON.decode(ReportFixture.olderServerJSON)
        #expect(report.absent == [.actions, .backlog, .breaches, .resolutions])
        #expect(report.window.timeZone == .gmt)
        #expect(report.days.map(\.opened) == [2, 0] && report.playbooks.first?.completed == 2)
        #expect(report.acknowledge == Report.Timing(count: 2, mean: 5400, p90: 7200))
        let note = "The server that made this report is older than its response actions section: upgrade it to see them."
        #expect(ReportFormat.markdown.render(report).hasSuffix("## Response actions\n\n\(note)\n"))
        #expect(ReportFormat.html.render(report).contains("<p>\(note)</p>"))
        // Without the backlog: not said to be zero.
        #expect(ReportFormat.markdown.render(report).contains("\n2 incidents opened, 1 closed.\n"))
        #expect(!ReportFormat.html.render(report).contains("Open at the start"))
        #expect(ReportFormat.markdown.render(report).contains("## SLA by severity, breached incidents\n\nThe server that "
            + "made this report is older than its SLA by severity and breached incidents section: upgrade it to see them.\n"))
        let csv = ReportFormat.csv.render(report)
        #expect(csv.contains("absent,actions,note,\(note)\r\n") && !csv.contains("approval,"), "\(csv)")
        #expect(csv.contains("absent,backlog,note,") && !csv.contains("backlog,,"), "\(csv)")
        // Written back without the section, rather than with zeros nobody counted.
        let json = ReportJSON.encode(report)
        #expect(!json.contains("\"actions\"") && !json.contains("\"approval\"") && !json.contains("open_at_start"))
        #expect(!json.contains("sla_by_severity") && !json.contains("breached_incidents") && !json.contains("resolutions"))
        #expect(ReportFormat.markdown.render(report).contains("## Closed incidents by resolution\n\nThe server that made "
            + "this report is older than its closed incidents by resolution section: upgrade it to see them.\n"))
        #expect(try ReportJSON.decode(json) == report)
        #expect(try ReportJSON.decode(ReportJSON.encode(try await Self.fixture())).absent.isEmpty)
    }

    @Test("A body that is no report says what is wrong with it, by its JSON key")
    func notReport() {
        func failure(_ json: String) -> String {
            do { _ = try ReportJSON.decode(json) } catch { return error.description }
            return "decoded"
        }
        #expect(failure("<html>") == "not a report: not JSON")
        #expect(failure(#"{"window": {"from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z"}}"#)
            == "not a report: no generated_at")
        let badDay = ReportFixture.olderServerJSON.replacingOccurrences(of: #""opened" : 0"#, with: #""opened" : "none""#)
        #expect(failure(badDay) == "not a report: days.1.opened is not a number")
    }

    @Test("Markdown: a table per figure")
    func markdown() async throws {
        let report = try await Self.fixture()
        let text = ReportFormat.markdown.render(report)
        #expect(text.hasPrefix("# Automator report\n\n2026-03-01 00:00 UTC to 2026-03-04 00:00 UTC, made 2026-03-04 12:00 UTC.\n"
            + "10 incidents opened, 5 closed; 1 open at the start, 6 at the end.\n"))
        #expect(text.contains("| 2026-03-01 | 4 | 3 |\n"))
        // A blank line between each heading and its table, the first too, as Markdown renderers want.
        #expect(text.contains("## Incidents per day\n\n| Day (UTC) | Opened | Closed |\n"), "\(text)")
        #expect(text.contains("| phishing | 1 | 1 | 1 | 0 | 50% |\n"))
        #expect(text.contains("|  | Incidents | Median | Mean | p90 |\n"))
        #expect(text.contains("| Acknowledge | 7 | 2h | 6h 30m | 1d 6h |\n| Resolve | 6 | 16h | 16h 40m | 1d 11h |\n"))
        // Names and times to the left, counts and durations to the right.
        #expect(text.contains("| Indicator | Type | Verdict | Last seen |\n| --- | --- | --- | --- |\n"), "\(text)")
        #expect(text.contains("| `examp1e.com` | domain | malicious | 2026-03-02 06:00 UTC |\n"))
        #expect(text.contains("| Incident | Type | Severity | Due | Closed | Late by |\n| --- | --- | --- | --- | --- | ---: |\n"))
        #expect(text.contains("| Playbook | Completed | Failed | Killed | Unfinished | Success |\n| --- | ---: | ---: | ---: | ---: | ---: |\n"))
        #expect(text.contains("| malware | 1 | 1 | 1 | 0 | 33% |\n"))
        #expect(text.contains("| (nobody) | 1 | 0 | 1 |\n"))
        #expect(text.contains("| Action | Done | Failed | Refused | Denied | Timed out | Dry run | Undone | Expired "
            + "| In flight |\n"))
        #expect(text.contains("| firewall.block_ip | 2 | 0 | 0 | 0 | 1 | 1 | 2 | 1 | 1 |\n"))
        #expect(text.contains("| slack:bob | 2 |\n"))
        #expect(text.contains("| Approval in chat | 3 | 2h | 1h 50m | 3h |\n"))
        #expect(text.contains("| firewall.block_ip | 2 | 1 | 2026-02-28 14:00 UTC |\n"))
        #expect(text.contains("## SLA by severity\n\n| Severity | Met | Breached | At risk | On track | Met (of ended) |\n"))
        #expect(text.contains("| high | 1 | 1 | 0 | 1 | 50% |\n| medium | 0 | 2 | 0 | 0 | 0% |\n"))
        #expect(text.contains("## Breached incidents\n\n| Incident | Type | Severity | Due | Closed | Late by |\n"))
        #expect(text.contains("| INC-6 | malware | high | 2026-03-02 16:00 UTC | still open | 1d 20h |\n"
            + "| INC-12 | access | medium | 2026-03-03 00:00 UTC | 2026-03-04 03:00 UTC | 1d 3h |\n"))
        var one = report
        one.statuses = [one.statuses[0]]
        one.statuses[0].count = 1
        #expect(ReportFormat.markdown.render(one).contains("\n1 incident opened, 5 closed; 1 open at the start, 6 at the end.\n"))
    }

    @Test("Markdown shows stored text as written: a type, an owner or an indicator adds no row, link, image, HTML or code")
    func markdownHostileText() async throws {
        var report = try await Self.fixture()
        report.types[0].name = "phishing\n| forged | 9 | 9 |"
        report.owners[0].owner = "[Reset your password](https://evil.example) ![](https://track.example/p.png)"
        report.playbooks[0].playbook = "<img src=x onerror=alert(1)>\u{1B}[31m"
        report.indicators[0].value = "evil.example/`|`"
        let text = ReportFormat.markdown.render(report)
        #expect(text.contains(#"| phishing\n\| forged \| 9 \| 9 \| | "#), "\(text)")
        #expect(!text.contains("\n| forged"))
        #expect(text.contains(#"| \[Reset your password\](https://evil.example) !\[\](https://track.example/p.png) | "#))
        #expect(text.contains(#"| \<img src=x onerror=alert(1)\>\27\[31m | "#), "\(text)")
        #expect(text.contains("| `` evil.example/`\\|` `` | "), "\(text)")
    }

    @Test("Chat: the main figures in a few plain lines, no Markdown table or heading")
    func chat() async throws {
        // The fixture's figures, as the tests above count them: still open are new, active and
        // pending; the SLA share of met among met and breached; runs, tasks and actions summed.
        #expect(ReportChat.summary(try await Self.fixture()) == """
            Automator report, 2026-03-01 00:00 UTC to 2026-03-04 00:00 UTC
            Incidents: 10 opened, 5 closed; 1 open at the start, 6 at the end.
            Closed as: 2 true positive, 1 benign, 2 false positive. False positives: 40% of the resolved; phishing 2 of 3.
            SLA: 50% met (3 met, 3 breached, 1 at risk, 1 on track). Breached: access 1, malware 1, phishing 1.
            Breached and still open: INC-6 (1d 20h late).
            Time to acknowledge: median 2h, p90 1d 6h (7 incidents). To resolve: median 16h, p90 1d 11h (6 incidents).
            Playbook runs: 3 completed, 2 failed, 1 killed, 1 unfinished. Overdue tasks: 2.
            Response actions: 3 done, 1 failed, 1 refused, 1 denied, 1 timed out, 1 dry run, 2 undone, 1 expired, \
            1 in flight; 5 in force now.
            """)
        // The types with most false positives first, three at most; a share of those resolved.
        var closed = Report(window: ReportFixture.window, generatedAt: ReportFixture.now)
        closed.resolutions = [Report.Resolutions(type: "phishing", truePositive: 4, falsePositive: 1, unresolved: 3),
                              Report.Resolutions(type: "brute_force", benign: 1, falsePositive: 2),
                              Report.Resolutions(type: "malware", truePositive: 2, undetermined: 1),
                              Report.Resolutions(type: "dlp", falsePositive: 1),
                              Report.Resolutions(type: "access", falsePositive: 1)]
        #expect(ReportChat.summary(closed).contains("""
            \nClosed as: 6 true positive, 1 benign, 5 false positive, 1 undetermined, 3 not said. False positives: 38% \
            of the resolved; brute_force 2 of 3, access 1 of 1, dlp 1 of 1.\n
            """), "\(ReportChat.summary(closed))")
        closed.resolutions = [Report.Resolutions(type: "phishing", unresolved: 2)]
        #expect(ReportChat.summary(closed).contains("\nClosed as: 2 not said.\n"), "no share of none resolved")
        closed.absent = [.resolutions]
        #expect(!ReportChat.summary(closed).contains("Closed as"), "a report from a server older than the resolutions")
        let quiet = Report(window: ReportFixture.window, generatedAt: ReportFixture.now)
        #expect(ReportChat.summary(quiet) == """
            Automator report, 2026-03-01 00:00 UTC to 2026-03-04 00:00 UTC
            Incidents: 0 opened, 0 closed; 0 open at the start, 0 at the end.
            Time to acknowledge: none measured. To resolve: none measured.
            """)
    }

    @Test("CSV: one flat table, section,name,measure,value; no formula a spreadsheet would run")
    func csv() async throws {
        let report = try await Self.fixture()
        let lines = ReportFormat.csv.render(report).components(separatedBy: "\r\n")
        #expect(lines.first == "section,name,measure,value")
        #expect(lines.last == "")
        #expect(lines.allSatisfy { $0.isEmpty || $0.split(separator: ",", omittingEmptySubsequences: false).count == 4 })
        for line in ["window,,from,2026-03-01T00:00:00Z", "day,2026-03-02,opened,3", "type,access,closed,1",
                     "backlog,,open_at_start,1", "backlog,,open_at_end,6",
                     "severity,info,opened,1", "status,closed,incidents,6", "sla,phishing,at_risk,1",
                     "acknowledge,,median_seconds,7200", "acknowledge,,p90_seconds,108000",
                     "resolve,,median_seconds,57600", "resolve,,mean_seconds,60000", "verdict,malicious,indicators,2",
                     "indicator,examp1e.com,verdict,malicious", "playbook,phishing,unfinished,1",
                     "owner,,overdue,1", "action,edr.isolate_host,denied,1", "action,firewall.block_ip,timed_out,1",
                     "action,firewall.block_ip,in_flight,1", "approver,slack:bob,actions,2",
                     "approval,,mean_seconds,6600", "in_force,firewall.block_ip,until_undone,1",
                     "in_force,edr.isolate_host,since,2026-03-01T21:00:00Z", "window,,timezone,UTC",
                     "sla_by_severity,medium,breached,2", "sla_by_severity,low,at_risk,1",
                     "breached,INC-6,due,2026-03-02T16:00:00Z", "breached,INC-6,closed_at,",
                     "breached,INC-12,closed_at,2026-03-04T03:00:00Z", "breached,INC-12,late_seconds,97200"]
        {
            #expect(lines.contains(line), "\(line)")
        }
        var quoted = report
        quoted.types = [Report.Breakdown(name: #"a,"b""#, opened: 1, closed: 0)]
        #expect(ReportFormat.csv.render(quoted).contains("type,\"a,\"\"b\"\"\",opened,1\r\n"))
        // A formula from whoever posts alerts is text to a spreadsheet; a negative number stays one.
        quoted.types = [Report.Breakdown(name: "=1+2|x", opened: 1, closed: 0),
                        Report.Breakdown(name: "@SUM(A1)", opened: 1, closed: 0)]
        let formulas = ReportFormat.csv.render(quoted)
        #expect(formulas.contains("type,'=1+2|x,opened,1\r\n") && formulas.contains("type,'@SUM(A1),opened,1\r\n"), "\(formulas)")
        #expect(ReportCSV.field("-3") == "-3" && ReportCSV.field("-cmd") == "'-cmd")
    }

    @Test("HTML: one file, every chart as inline SVG, no script, nothing fetched, text escaped")
    func html() async throws {
        let report = try await Self.fixture()
        var hostile = report
        hostile.types.append(Report.Breakdown(name: "<script>alert(1)</script>", opened: 1, closed: 0))
        let html = ReportFormat.html.render(hostile)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        for id in ReportHTML.chartIDs { #expect(html.contains(#"<svg id="\#(id)""#), "\(id)") }
        #expect(html.components(separatedBy: "<svg ").count - 1 == ReportHTML.chartIDs.count)
        #expect(!html.contains("<script"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        // Nothing to fetch: the only URL is the SVG namespace.
        let urls = html.components(separatedBy: "http").dropFirst().map { "http" + $0.prefix(30) }
        #expect(urls.allSatisfy { $0.hasPrefix("http://www.w3.org/2000/svg") || $0.hasPrefix("http://examp1e.com/login") },
                "\(urls)")
        #expect(html.contains(#"<meta name="viewport" content="width=device-width, initial-scale=1">"#))
        #expect(html.contains("@media print"))
        // Bars per day: day 1 has 4 opened and 3 closed, on an axis up to 5.
        #expect(html.contains("<title>2026-03-01: 4 opened</title>") && html.contains("<title>2026-03-01: 3 closed</title>"))
        #expect(html.contains("<title>phishing: 1 at risk</title>"))
        // Per day, by severity, and the breached incidents in tables too, not only in the bars' tooltips.
        #expect(html.contains(#"<th scope="col">Day (UTC)</th>"#)
            && html.contains(#"<tr><th scope="row">2026-03-02</th><td>3</td><td>1</td></tr>"#), "\(html)")
        #expect(html.contains(#"<tr><th scope="row">medium</th><td>0</td><td>2</td><td>0</td><td>0</td><td>0%</td></tr>"#))
        // The SLA by severity as a chart too: medium's two breaches are its own bar.
        let bySeverity = try #require(html.components(separatedBy: #"<svg id="chart-sla-severity""#).dropFirst().first?
            .components(separatedBy: "</svg>").first)
        #expect(bySeverity.contains("<title>medium: 2 breached</title>"), "\(bySeverity)")
        #expect(html.contains(#"<tr><th scope="row">INC-6</th><td>malware</td><td>high</td><td>2026-03-02 16:00 UTC</td>"#
            + "<td>still open</td><td>1d 20h</td></tr>"))
        #expect(html.contains("<title>edr.isolate_host: 1 denied</title>"))
        // The summary's times say which figure they are: the median, the typical incident.
        #expect(html.contains("<dt>Open at the start</dt><dd>1</dd>") && html.contains("<dt>Open at the end</dt><dd>6</dd>"))
        #expect(html.contains("<dt>Acknowledged in (median)</dt><dd>2h</dd>") && html.contains("<dt>Resolved in (median)</dt><dd>16h</dd>"))
    }

    @Test("Axis maxima read as 1, 2 or 5 times a power of ten")
    func niceMaximum() {
        #expect([1, 2, 3, 5, 6, 10, 11, 999, 1001].map(ReportChart.niceMaximum) == [1, 2, 5, 5, 10, 10, 20, 1000, 2000])
    }

    // MARK: The window

    @Test("A report until now ends its window when it says it was made: the CSV's to is its generated_at")
    func untilNow() async throws {
        let now = ReportFixture.hour(84.5).addingTimeInterval(0.25)
        let report = try await Self.withFixture { store in try await store.report(ReportWindow(since: "30d", now: now), at: now) }
        let rows = ReportFormat.csv.render(report).split(whereSeparator: \.isNewline)
        func value(_ measure: String) -> String? {
            rows.first { $0.hasPrefix("window,,\(measure),") }?.split(separator: ",").last.map(String.init)
        }
        #expect(value("to") != nil && value("to") == value("generated_at"), "\(rows.prefix(4))")
        let scheduled = try await Self.withFixture { store in
            try await store.report(ReportWindow(lasting: 86400, until: now), at: now)
        }
        #expect(scheduled.window.to == scheduled.generatedAt && scheduled.window.to > now)
    }

    @Test("The window: --since, dates, times, and what is refused")
    func window() throws {
        let now = ReportFixture.hour(84.5)
        // Until now: its second included (the end is excluded), so what was just done is counted.
        let since = try ReportWindow(since: "30d", now: now.addingTimeInterval(0.25))
        #expect(since.to == now.addingTimeInterval(1) && since.from == now.addingTimeInterval(-30 * 86400))
        #expect(try ReportWindow(since: "12h", now: now).from == ReportFixture.hour(72.5))
        let march = try ReportWindow(from: "2026-03-01", to: "2026-03-03", now: now)
        #expect(march == ReportWindow(from: ReportFixture.start, to: ReportFixture.hour(72)))
        let times = try ReportWindow(from: "2026-03-01T08:00:00Z", to: "2026-03-01T10:00:00+01:00", now: now)
        #expect(times == ReportWindow(from: ReportFixture.hour(8), to: ReportFixture.hour(9)))
        #expect(try ReportWindow(from: "2026-03-03", to: nil, now: now).to == now.addingTimeInterval(1))
        #expect(throws: ReportWindow.Invalid.self) { try ReportWindow(since: "soon", now: now) }
        #expect(throws: ReportWindow.Invalid.self) { try ReportWindow(since: "0d", now: now) }
        #expect(throws: ReportWindow.Invalid.self) { try ReportWindow(since: "7", now: now) }
        #expect(throws: ReportWindow.Invalid.self) { try ReportWindow(from: "March 1", to: nil, now: now) }
        #expect(throws: ReportWindow.Invalid.self) { try ReportWindow(from: "2026-03-01", to: "2026-13-01", now: now) }
        #expect(throws: ReportWindow.Invalid.self) { try ReportWindow(from: "2026-02-31", to: nil, now: now) }
        // At most 100 years, as --since: any hundred calendar years, leap days and all, and no more.
        #expect(throws: ReportWindow.Invalid.self) { try ReportWindow(from: "0001-01-01", to: "9999-12-31", now: now) }
        #expect(throws: ReportWindow.Invalid.self) { try ReportWindow(from: "1926-01-01", to: "2026-01-01", now: now) }
        let century = try ReportWindow(from: "1926-01-01", to: "2025-12-31", now: now)
        #expect(century.to.timeIntervalSince(century.from) == 36_525 * 86400)
        do {
            _ = try ReportWindow(from: "2026-03-05", to: "2026-03-01", now: now)
            Issue.record("an empty window was accepted")
        } catch {
            #expect(error.description == "the window is empty: --from 2026-03-05 is not before --to 2026-03-01")
        }
    }
}
