import Foundation
import Logging

/// The unfinished runs of a playbook no longer loaded: its file was removed, or moved or renamed
/// out of `playbooks/`, its `name` changed, or it no longer loads. They go on with the version
/// they started with, since a person may be midway through the case (a task half done, a question
/// about to be answered) and a run stopped for them would leave its incident half handled. The
/// operator is told once which runs they are and how to stop one (`watchPlaybooks`), and
/// `playbook list` shows them.
extension IncidentService {
    /// A playbook no longer loaded, and its unfinished runs, oldest first.
    public struct UnloadedPlaybook: Sendable {
        public var name: String
        public var runs: [RunRecord]
    }

    /// The names of the playbooks loaded now, the scripts folder read again if it changed: a run of
    /// another goes on with the version it started with.
    public func loadedPlaybooks() async -> Set<String> {
        await catalog.refresh()
        return Set(await catalog.playbooks.map(\.name))
    }

    /// The playbooks of unfinished runs (pending, running, waiting) that are no longer loaded, by name.
    public func unloadedPlaybooks() async throws(StoreError) -> [UnloadedPlaybook] {
        let loaded = await loadedPlaybooks()
        var byName: [String: [RunID: RunRecord]] = [:]
        for status in RunRecord.Status.allCases where !status.isFinished {
            for run in try await runs.runs(status: status, limit: Int(Int32.max)) {
                guard let name = run.playbook, !loaded.contains(name) else { continue }
                byName[name, default: [:]][run.id] = run
            }
        }
        return byName.map { name, runs in UnloadedPlaybook(name: name, runs: runs.values.sorted { $0.id < $1.id }) }
            .sorted { $0.name < $1.name }
    }

    /// Reads the playbooks again every `interval` when a file changed, until cancelled (serve),
    /// and after each reading (the first included) logs once the runs whose playbook is no
    /// longer loaded, at warning level, with how to stop one.
    public func watchPlaybooks(every interval: Duration) async {
        var read = 0
        var told: Set<RunID> = []
        repeat {
            await catalog.refresh()
            let readings = await catalog.readings
            guard readings != read else { continue }
            read = readings
            do { told = try await tellUnloaded(besides: told) } catch {
                logger.error("playbooks: the runs of playbooks no longer loaded could not be listed: \(error)")
            }
        } while (try? await Task.sleep(for: interval)) != nil
    }

    /// Logs the unfinished runs of playbooks no longer loaded, but those in `told`; returns
    /// those it knows of now, told.
    private func tellUnloaded(besides told: Set<RunID>) async throws(StoreError) -> Set<RunID> {
        var now: Set<RunID> = []
        for playbook in try await unloadedPlaybooks() {
            now.formUnion(playbook.runs.map(\.id))
            let new = playbook.runs.filter { !told.contains($0.id) }
            guard !new.isEmpty else { continue }
            let listed = new.map { run in run.id.rawValue + (run.incident.map { " (\($0))" } ?? "") }
            let runs = new.count == 1
                ? "its unfinished run goes on with the version it"
                : "its \(new.count) unfinished runs go on with the version they"
            logger.warning("""
                playbook \(playbook.name) is no longer loaded (its file was removed or renamed, its name changed, \
                or it does not load: automator playbook list says which): \(runs) started with: \
                \(listed.joined(separator: ", ")); to stop one, automator runs kill RUN
                """)
        }
        return now
    }
}
