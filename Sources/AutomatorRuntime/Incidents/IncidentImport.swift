import Foundation

/// `automator incident import` and `POST /api/v1/incidents/import`: a SOC's closed incidents
/// from another tool, one JSON object a line (`ImportedIncident`), so that the reports cover the
/// months before automator.
///
/// Nothing runs on an imported incident: no playbook, no SLA timer (it is closed), no
/// notification. Each gets the next number and keeps its id there in `source_ref`; one whose
/// `source` and `source_ref` are in the store already (imported before, the same line twice, or
/// by another import at the same time: the store checks as it writes) is counted and left. A bad
/// line is refused with its number and the rest goes on; each incident is written whole, with its
/// journal, in its own write, so a line refused or a store that fails loses nothing imported
/// before it. A dry run checks everything and writes nothing.
///
/// Fed by one task, line by line: `add` each, then `finish`.
public final class IncidentImport {
    /// What an import did (or, dry, would do).
    public struct Summary: Sendable, Hashable {
        public var dryRun: Bool
        /// Lines read, empty ones included.
        public var lines = 0
        public var added = 0
        public var already = 0
        public var refused = 0
        /// The first `Summary.listed` refusals: line number and why.
        public var refusals: [Refusal] = []

        public struct Refusal: Sendable, Hashable {
            public var line: Int
            public var reason: String
        }

        /// How many refusals a summary lists; the rest are counted.
        public static let listed = 100

        mutating func refuse(line: Int, _ reason: String) {
            refused += 1
            if refusals.count < Self.listed { refusals.append(Refusal(line: line, reason: reason)) }
        }
    }

    /// Lines looked up together, and their new incidents written together: enough for one query
    /// and one commit to serve many, few enough that a failure says little twice.
    static let batch = 256

    private let store: any IncidentStore
    private let ledger: IncidentLedger
    private let policy: SLAPolicy
    private let file: String
    private let actor: String
    private let now: Date
    private var summary: Summary
    private var line: Int
    /// The lines taken so far, whose writes may not have committed.
    private var seen: Set<SourceRef> = []
    /// Lines read and checked, to look up together and write together (`settle`).
    private var page: [ImportedIncident] = []

    /// - Parameters:
    ///   - file: the file's name, for the journal's `imported` entries.
    ///   - firstLine: the number of the first line given (a part of a file sent in several).
    init(store: any IncidentStore, ledger: IncidentLedger, policy: SLAPolicy, file: String, by actor: String,
         dryRun: Bool, firstLine: Int = 1, now: Date = Date())
    {
        self.store = store
        self.ledger = ledger
        self.policy = policy
        self.file = file
        self.actor = actor
        self.now = now
        summary = Summary(dryRun: dryRun)
        line = firstLine - 1
    }

    /// What is done so far; the last page's lines are counted once they are looked up and written
    /// (`finish` does the last).
    public var progress: Summary { summary }

    /// Takes the next line (without its newline); an empty line is skipped.
    ///
    /// - Throws: the store's failure; the lines before it that are counted `added` are kept.
    public func add(_ text: some Collection<UInt8>) async throws(StoreError) {
        line += 1
        summary.lines += 1
        guard text.contains(where: { !Self.isSpace($0) }) else { return }
        let imported: ImportedIncident
        do { imported = try ImportedIncident(json: Array(text), now: now) } catch {
            summary.refuse(line: line, error.description)
            return
        }
        page.append(imported)
        if page.count >= Self.batch { try await settle() }
    }

    /// Looks up and writes the last page, and answers the summary.
    public func finish() async throws(StoreError) -> Summary {
        try await settle()
        return summary
    }

    /// Looks the page's lines up in one query (one a line cost as much as the rest of the import),
    /// then numbers those that are new and writes them together, so that the store commits them in
    /// one transaction where it can, each whole or not at all. Counts those that committed, and as
    /// there already those that another import running at the same time wrote first (the store
    /// checks again as it writes, `StoreWrite.importIncident`).
    private func settle() async throws(StoreError) {
        let lines = page
        page = []
        guard !lines.isEmpty else { return }
        let stored = try await store.storedSourceRefs(Set(lines.map(\.origin)).subtracting(seen))
        var writes: [StoreWrite] = []
        for imported in lines {
            guard seen.insert(imported.origin).inserted, !stored.contains(imported.origin) else {
                summary.already += 1
                continue
            }
            if summary.dryRun {
                summary.added += 1
                continue
            }
            let id = IncidentID(try await ledger.take(.incident))
            writes.append(.importIncident(imported.incident(id, policy: policy),
                                          journal: imported.journal(of: id, from: file, by: actor, at: now)))
        }
        guard !writes.isEmpty else { return }
        let refusals = await write(writes)
        summary.added += writes.count - refusals.count
        summary.already += refusals.count { $0.isAlreadyImported }
        if let failure = refusals.first(where: { !$0.isAlreadyImported }) { throw failure }
    }

    /// Submits `writes` at once and answers those refused.
    private func write(_ writes: [StoreWrite]) async -> [StoreError] {
        await withCheckedContinuation { (done: CheckedContinuation<[StoreError], Never>) in
            let outcome = Locked((left: writes.count, refusals: [StoreError]()))
            for write in writes {
                store.write(write) { result in
                    let finished = outcome.withLock { outcome -> [StoreError]? in
                        if case .failure(let error) = result { outcome.refusals.append(error) }
                        outcome.left -= 1
                        return outcome.left == 0 ? outcome.refusals : nil
                    }
                    if let finished { done.resume(returning: finished) }
                }
            }
        }
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
}

extension IncidentImport.Summary {
    /// Nothing done yet.
    public init(dryRun: Bool) { self.dryRun = dryRun }

    /// As the API answers it: `{"dry_run", "lines", "new", "already", "refused", "refusals":
    /// [{"line", "error"}]}`.
    public var json: String {
        var object = JSONText.Object()
        object["dry_run"] = dryRun ? "true" : "false"
        object["lines"] = "\(lines)"
        object["new"] = "\(added)"
        object["already"] = "\(already)"
        object["refused"] = "\(refused)"
        object["refusals"] = JSONText.array(refusals.map { refusal in
            var listed = JSONText.Object()
            listed["line"] = "\(refusal.line)"
            listed["error"] = JSONText.string(refusal.reason)
            return listed.text
        })
        return object.text
    }

    /// The summary `json` gave; nil for other JSON.
    public init?(json: String) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let dryRun = object["dry_run"] as? Bool, let lines = object["lines"] as? Int,
              let added = object["new"] as? Int, let already = object["already"] as? Int,
              let refused = object["refused"] as? Int, let refusals = object["refusals"] as? [[String: Any]]
        else { return nil }
        self.init(dryRun: dryRun, lines: lines, added: added, already: already, refused: refused)
        self.refusals = refusals.compactMap { listed in
            guard let line = listed["line"] as? Int, let reason = listed["error"] as? String else { return nil }
            return Refusal(line: line, reason: reason)
        }
    }

    /// Adds what the next part of the same file did (sent in parts to a server).
    public mutating func add(_ part: Self) {
        lines += part.lines
        added += part.added
        already += part.already
        refused += part.refused
        refusals += part.refusals.prefix(Self.listed - min(Self.listed, refusals.count))
    }

    /// Where it stands, in a line: `12000 lines: 11958 new, 40 already there, 2 refused`.
    public var headline: String {
        "\(lines.counted("line")): \(added) " + (dryRun ? "would be new" : "new") + ", \(already) already there, \(refused) refused"
            + (dryRun ? "; a dry run, nothing written" : "")
    }

    /// The summary for a person: the headline, then each refusal listed with its line.
    public var text: String {
        var text = headline
        for refusal in refusals { text += "\n  line \(refusal.line): \(refusal.reason)" }
        if refused > refusals.count { text += "\n  and \(refused - refusals.count) more refused" }
        return text
    }
}
