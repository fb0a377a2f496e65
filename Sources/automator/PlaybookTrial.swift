import AutomatorRuntime
import Foundation
import Logging

/// `automator run PLAYBOOK --incident FILE`: a playbook against an incident from a file, with no
/// server, for development. The run is as durable as under `serve` (a store in a temporary
/// folder, removed at the end, with the evidence it keeps), the journal is printed as it grows,
/// and each task the playbook waits on is asked on the terminal, or read from standard input,
/// one answer per line. Its actions are dry runs: checked, planned and journaled, never sent.
struct PlaybookTrial {
    let file: String
    let source: [UInt8]
    let incident: IncidentDraft
    /// Whether the incident came on standard input (`--incident -`), which then has no answers.
    let incidentOnStandardInput: Bool
    let scripts: String
    /// Where `require` looks.
    let modulePaths: [String]
    let modules: (IncidentLedger) -> [any HostModule]
    /// Whose actions the playbook may plan, and the rules they are checked against.
    let integrations: Integrations
    let actionRules: ActionConfiguration
    let limits: Limits
    let logger: Logger

    /// Runs it; returns whether the playbook completed.
    func run() async throws -> Bool {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("automator-trial-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try CommandStores.sqlite(folder: folder, durability: .normal)
        let ledger = IncidentLedger(store: store)
        let actions = ActionService(integrations: integrations, store: store, rules: AccessRules(actions: actionRules), logger: logger)
        let modules = modules(ledger) + [EvidenceModule(service: EvidenceService(store: store, dataFolder: folder)),
                                         ActionsModule(service: actions, dryRunsOnly: true)]
        let runs = try RunService(store: store, modules: modules, modulePaths: modulePaths, executors: 1, limits: limits)
        let service = try IncidentService(ledger: ledger, runs: runs, scripts: scripts, modules: modules)
        let completed: Bool
        do {
            let created = try await service.create(incident, by: "cli", choosingPlaybook: false)
            let run = try await service.runPlaybook(file: file, source: source, on: created.incident.id, by: "cli")
            completed = try await follow(run.id, of: created.incident.id, service: service)
        } catch {
            await service.shutdown()
            throw error
        }
        await service.shutdown()
        return completed
    }

    /// Prints the journal as it grows and asks the tasks, until the run ends.
    private func follow(_ runID: RunID, of incident: IncidentID, service: IncidentService) async throws -> Bool {
        let started = Date()
        var printed = 0
        var asked: Set<TaskID> = []
        let answers = AnswerReader()
        while true {
            // Tasks first: the journal read after them has their entries, printed before the question.
            let open = try await service.store.listTasks(TaskQuery(incident: incident, status: .open))
            let journal = try await service.store.journal(of: incident)
            for entry in journal.dropFirst(printed) { printVisible(Self.line(entry, since: started)) }
            printed = journal.count
            guard let run = try await service.runs.run(runID), !run.status.isFinished else { break }
            if let task = open.first(where: { !asked.contains($0.id) }) {
                asked.insert(task.id)
                try await ask(task, answers: answers, service: service)
                continue
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let journal = try await service.store.journal(of: incident)
        for entry in journal.dropFirst(printed) { printVisible(Self.line(entry, since: started)) }
        let (final, _, run, _) = try await service.details(incident)
        guard let run else { return false }
        let elapsed = String(format: "%.2f s", Date().timeIntervalSince(started))
        switch run.status {
        case .completed:
            print("playbook completed in \(elapsed); \(final.id) is \(final.status.rawValue)"
                + (final.closeReason.map { ": \($0)" } ?? ""))
            return true
        default:
            // The journal just printed holds the error with its traceback: the error alone here, after it.
            let error = run.error.map { $0.components(separatedBy: "\nstack traceback:").first ?? $0 } ?? ""
            fflush(nil)
            FileHandle.standardError.write(Data("error: the run ended \(run.status.rawValue) after \(elapsed): \(error)\n".utf8))
            return false
        }
    }

    /// Asks a task until it gets an answer it takes; with no more input, the run is stopped.
    private func ask(_ task: IncidentTask, answers: AnswerReader, service: IncidentService) async throws {
        printVisible("task \(task.id)" + (task.owner.map { " for \($0)" } ?? "") + ": \(task.title)")
        if !task.description.isEmpty { printVisible("  " + task.description.replacingOccurrences(of: "\n", with: "\n  ")) }
        if !task.choices.isEmpty { printVisible("  choices: " + task.choices.joined(separator: ", ")) }
        while true {
            print("answer> ", terminator: "")
            fflush(nil)
            guard let answer = await answers.next() else {
                print()
                let reason = "task \(task.id) (\(task.title)) needs an answer: " + (incidentOnStandardInput
                    ? "standard input gave the incident, so give it as a file (--incident FILE) and the answers on "
                        + "standard input, one per line"
                    : "run this in a terminal, or give the answers on standard input, one per line")
                if let runID = task.runID { _ = try? await service.runs.kill(runID, reason: reason) }
                return
            }
            if !answers.isTerminal { print(answer) }
            do {
                _ = try await service.ledger.complete(task.id, answer: answer, by: "cli")
                return
            } catch {
                print("  \(error)")
            }
        }
    }

    private static func line(_ entry: JournalEntry, since start: Date) -> String {
        let offset = String(format: "%6.0f ms", max(0, entry.at.timeIntervalSince(start) * 1000))
        let kind = entry.kind.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)
        return "\(offset)  \(kind) " + entry.text.replacingOccurrences(of: "\n", with: "\n" + String(repeating: " ", count: 21))
    }
}

/// Lines of standard input, read on a thread of their own so that waiting for a person does not
/// hold one of Swift's few cooperative threads.
private final class AnswerReader: Sendable {
    let isTerminal = isatty(STDIN_FILENO) != 0

    func next() async -> String? {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: readLine()) }.start()
        }
    }
}
