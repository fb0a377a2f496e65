import Foundation

/// Where collectors drop files for `inc:evidence{ path = ... }` (`DATA/evidence/inbox`): scripts
/// may name files here and nowhere else. On the machine of the worker that runs the playbook,
/// whichever the vault.
public struct EvidenceInbox: Sendable {
    public let folder: String

    public init(dataFolder: String) { folder = dataFolder + "/evidence/inbox" }

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
