/// An older database's schema brought up to date as a store opened it: the server logs it, since
/// an older automator refuses the database from then on (`StoreError.newerSchema`), and going back
/// means restoring the backup made before.
public struct SchemaUpgrade: Sendable, Hashable, CustomStringConvertible {
    /// The newest version it had, and the newest it has now.
    public var from: String
    public var to: String

    /// The upgrade that applied `applied` (in order) of `versions` (all, in order); nil when none
    /// was applied, or all were: a database made now is no upgrade.
    init?(applied: [String], of versions: [String]) {
        guard let first = applied.first, let last = applied.last, let index = versions.firstIndex(of: first), index > 0
        else { return nil }
        from = versions[index - 1]
        to = last
    }

    /// `from v19 to v21`.
    public var description: String { "from \(from) to \(to)" }
}
