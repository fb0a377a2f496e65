import Foundation

/// Where collectors drop files for `inc:evidence{ path = ... }` (`DATA/evidence/inbox`): scripts
/// may name files here and nowhere else. On the machine of the worker that runs the playbook,
/// whichever the vault: on a shared store, a run that moves to another worker reads that one's.
public struct EvidenceInbox: Sendable {
    public let folder: String
    /// This worker's name on a shared store (`RunLease.worker`); nil on SQLite.
    let worker: String?

    public init(dataFolder: String, worker: String? = nil) {
        folder = dataFolder + "/evidence/inbox"
        self.worker = worker
    }

    /// Why the inbox file `name` (`path` resolved) is not there, for the run `run`: on a shared
    /// store, which worker reads which machine's inbox, and what the operator does.
    func missing(_ name: String, run: RunID?, movedFrom previous: String?) -> EvidenceError {
        guard let worker else {
            return EvidenceError(.notFound, "\(name) is not in the evidence inbox \(folder): a collector drops the file "
                + "there before the playbook takes it")
        }
        let moved = previous.map { " It moved here from worker \($0), whose machine may hold the file." } ?? ""
        return EvidenceError(.notFound, "\(name) is not in the evidence inbox of worker \(worker) (\(folder)), which "
            + "executes \(run.map { "run \($0)" } ?? "the run") now.\(moved) Each worker of a shared store reads its own "
            + "machine's inbox, and a run moves to another worker when the one executing it stops or dies: mount one "
            + "folder shared by every worker at DATA/evidence/inbox, or add the file from where it is with automator "
            + "evidence add INCIDENT FILE --store URL")
    }

    /// The path of a file named for `inc:evidence{ path = ... }`, if it is in the inbox.
    public func file(_ name: String) throws(EvidenceError) -> String {
        let resolved = URL(fileURLWithPath: name.hasPrefix("/") ? name : folder + "/" + name).standardizedFileURL
            .resolvingSymlinksInPath().path
        let root = URL(fileURLWithPath: folder).standardizedFileURL.resolvingSymlinksInPath().path
        guard resolved.hasPrefix(root + "/") else {
            throw EvidenceError(.invalid, "scripts may take evidence files only from \(folder): copy the file there, "
                + "or use `automator evidence add` for any file")
        }
        return resolved
    }
}
