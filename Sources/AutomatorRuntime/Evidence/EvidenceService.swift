import Foundation

/// Evidence on incidents: files kept in the store's vault by content, recorded with who
/// collected them, every look and export noted as custody, and exported with the incident's
/// journal as a signed bundle that `EvidenceBundle.verify` checks.
public struct EvidenceService: Sendable {
    public let store: any EvidenceStore
    public let vault: any EvidenceVault
    /// The data folder's inbox, for playbooks' files.
    public let inbox: EvidenceInbox
    /// Where the bundles' signing key is (`JournalSignature`).
    private let dataFolder: String

    public init(store: any EvidenceStore, dataFolder: String) {
        self.store = store
        self.dataFolder = dataFolder
        vault = store.evidenceVault(dataFolder: dataFolder)
        inbox = EvidenceInbox(dataFolder: dataFolder, worker: (store as? any LeasingStore)?.worker)
    }

    /// Keeps the file at `path` as evidence on `incident`, and journals it there; `progress` is
    /// told the bytes kept so far. Without `name`, it is the file's, its bytes that are not UTF-8
    /// written `\xNN` (`LocalPath.fileName`).
    public func add(file path: LocalPath, to incident: IncidentID, name: String? = nil, description: String = "",
                    tags: [String] = [], source: String, by actor: String, progress: EvidenceProgress? = nil)
        async throws(EvidenceError) -> Evidence
    {
        try await requireIncident(incident)
        let (hashes, size) = try await vault.add(file: path, progress: progress)
        let evidence = Evidence(incident: incident, name: name ?? path.fileName,
                                description: description, source: source, collectedBy: actor, tags: tags, hashes: hashes,
                                size: size)
        try await record(evidence)
        return evidence
    }

    /// Keeps `bytes` (a chat upload, a message) as evidence on `incident`, and journals it there.
    public func add(bytes: [UInt8], to incident: IncidentID, name: String, description: String = "", tags: [String] = [],
                    source: String, by actor: String) async throws(EvidenceError) -> Evidence
    {
        try await requireIncident(incident)
        let (hashes, size) = try await vault.add(bytes: bytes)
        let evidence = Evidence(incident: incident, name: name, description: description, source: source, collectedBy: actor,
                                tags: tags, hashes: hashes, size: size)
        try await record(evidence)
        return evidence
    }

    /// Records evidence whose content the vault has just kept. If the record cannot be written (a
    /// full disk), the content goes too, unless other evidence names it: content is kept once for
    /// all the evidence that names it, and nothing would name this copy, nor remove it. (A playbook's
    /// `keep` is not undone so: its replay records the content it kept.)
    private func record(_ evidence: Evidence) async throws(EvidenceError) {
        do { try await store.write(Self.recording(evidence)) } catch {
            if case false? = try? await store.namesContent(evidence.hashes.sha256) {
                await vault.discard(evidence.hashes.sha256)
            }
            throw Self.error(error)
        }
    }

    /// The record of new evidence, and its journal entry, to commit together.
    static func recording(_ evidence: Evidence) -> StoreWrite {
        let text = "evidence \(evidence.id) added: \(evidence.name) (\(evidence.size) bytes, sha256 \(evidence.hashes.sha256))"
            + (evidence.description.isEmpty ? "" : ": \(evidence.description)")
        return .all([.addEvidence(evidence), .appendJournal([JournalEntry(incident: evidence.incident, at: evidence.collectedAt,
                                                                          actor: evidence.collectedBy, kind: .evidence,
                                                                          text: text)])])
    }

    /// The evidence and its custody, noting that `actor` viewed it.
    public func get(_ id: String, by actor: String) async throws(EvidenceError) -> (Evidence, [CustodyEvent]) {
        let evidence = try await load(id)
        do {
            try await store.write(.noteCustody([CustodyEvent(evidence: id, actor: actor, action: .viewed)]))
            return (evidence, try await store.custody(of: id))
        } catch { throw Self.error(error) }
    }

    /// Of an incident that does not exist, `.notFound` rather than none (a mistyped id).
    public func list(of incident: IncidentID?) async throws(EvidenceError) -> [Evidence] {
        let found: [Evidence]
        do { found = try await store.evidenceList(of: incident) } catch { throw Self.error(error) }
        if found.isEmpty, let incident { try await requireIncident(incident) }
        return found
    }

    /// Copies the evidence's content to `destination` (custody: exported there).
    public func copy(_ id: String, to destination: EvidenceDestination, by actor: String) async throws(EvidenceError) {
        switch destination {
        case .file(let path):
            try await vault.copy(try await load(id).hashes.sha256, to: path)
            try await noteExport(of: id, to: path, by: actor)
        case .standardOutput:
            let sha256 = try await handOut(id, to: "standard output", by: actor).hashes.sha256
            try await vault.write(sha256, to: .standardOutput, named: "standard output")
        }
    }

    /// Readies the evidence's content to leave where it cannot be taken back (a pipe, a download),
    /// and a reader that stops early has had it all the same: its content is checked whole first,
    /// and its export to `detail` by `actor` noted, before the caller reads it out (`vault.read`).
    /// Returns the evidence.
    public func handOut(_ id: String, to detail: String, by actor: String) async throws(EvidenceError) -> Evidence {
        let evidence = try await load(id)
        try await vault.read(evidence.hashes.sha256) { _ in }
        try await noteExport(of: id, to: detail, by: actor)
        return evidence
    }

    /// The evidence of an incident as collected, each with its custody, oldest event first; of
    /// an incident that does not exist, `.notFound`.
    public func custodies(of incident: IncidentID) async throws(EvidenceError) -> [(Evidence, [CustodyEvent])] {
        let found: [(Evidence, [CustodyEvent])]
        do { found = try await store.evidenceWithCustody(of: incident) } catch { throw Self.error(error) }
        if found.isEmpty { try await requireIncident(incident) }
        return found
    }

    private func noteExport(of id: String, to detail: String, by actor: String) async throws(EvidenceError) {
        do { try await store.write(.noteCustody([CustodyEvent(evidence: id, actor: actor, action: .exported, detail: detail)])) }
        catch { throw Self.error(error) }
    }

    /// Writes the incident's evidence, its journal, a signed manifest of their hashes and the files
    /// that tell people how to check them (`EvidenceBundle.documents`) to the ZIP archive `path`;
    /// returns how many evidence files went in. `progress` is told the bytes of
    /// evidence written so far, of all of it.
    ///
    /// The incident's journal is verified first: a bundle is signed as the record, so a journal
    /// whose chain is broken is refused, or, with `brokenJournal`, exported with the break written
    /// in the signed manifest, which `verify` then reports.
    public func export(_ incident: IncidentID, to path: String, by actor: String, brokenJournal: Bool = false,
                       progress: EvidenceProgress? = nil) async throws(EvidenceError) -> Int
    {
        let found: Incident?
        let files: [Evidence]
        let journal: [JournalEntry]
        let verification: JournalVerification
        var custody: [String: [CustodyEvent]] = [:]
        do throws(StoreError) {
            found = try await store.loadIncident(incident)
            files = try await store.evidenceList(of: incident)
            journal = try await store.journal(of: incident)
            verification = try await store.verifyJournal(of: incident)
            for file in files { custody[file.id] = try await store.custody(of: file.id) }
        } catch { throw Self.error(error) }
        guard let details = found else {
            throw EvidenceError(.notFound, "there is no incident \(incident): `automator incident list` shows them")
        }
        if let problem = verification.problem, !brokenJournal {
            throw EvidenceError(.tampered, "\(incident)'s journal does not verify (\(problem)): a bundle would hand "
                + "the changed entries on as the record. `automator journal verify \(incident)` names the break; to "
                + "export all the same, with the break written in the signed manifest, add --broken-journal")
        }
        // A bundle is evidence handed on: never written over, which the move at the end would refuse anyway,
        // after all the work, in words that say nothing of what to do.
        guard !FileManager.default.fileExists(atPath: path) else {
            throw EvidenceError(.invalid, "\(path) exists already: choose another name, or remove it first")
        }
        let signature: JournalSignature
        do { signature = try await JournalSignature.loadOrCreate(in: dataFolder, for: store) } catch { throw Self.error(error) }
        let now = Date()
        let exported = files.map { CustodyEvent(evidence: $0.id, at: now, actor: actor, action: .exported, detail: path) }
        for event in exported { custody[event.evidence, default: []].append(event) }

        let temporary = path + ".partial"
        do {
            let archive = try ZipArchive.Writer(path: temporary)
            let journalText = Array(IncidentJSON.list(journal).utf8)
            let total = files.reduce(0) { $0 + $1.size }
            var done: Int64 = 0
            for file in files {
                try await archive.add(EvidenceBundle.path(of: file), size: file.size) { write throws(EvidenceError) in
                    try await vault.read(file.hashes.sha256) { data throws(EvidenceError) in
                        try write(data)
                        done += Int64(data.count)
                        progress?(done, max(total, done))
                    }
                }
            }
            try archive.add(EvidenceBundle.journalPath, bytes: journalText)
            let documents = EvidenceBundle.documents(of: details, files: files, journal: journal, journalJSON: journalText,
                                                     broken: verification.problem, publicKey: signature.publicKey,
                                                     exportedAt: now, by: actor)
            for document in documents { try archive.add(document.path, bytes: document.bytes) }
            let manifest = EvidenceBundle.manifest(of: details, files: files, custody: custody, journal: journalText,
                                                   entries: journal.count, broken: verification.problem,
                                                   documents: documents, exportedAt: now, by: actor)
            try archive.add(EvidenceBundle.manifestPath, bytes: manifest)
            try archive.add(EvidenceBundle.signaturePath, bytes: try EvidenceBundle.sign(manifest, with: signature))
            try archive.finish()
            try FileManager.default.moveItem(atPath: temporary, toPath: path)
        } catch let error as EvidenceError {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw EvidenceError(.unavailable, "the bundle could not be written to \(path): \(error.localizedDescription)")
        }
        do { try await store.write(.noteCustody(exported)) } catch { throw Self.error(error) }
        return files.count
    }

    private func load(_ id: String) async throws(EvidenceError) -> Evidence {
        let found: Evidence?
        do { found = try await store.evidence(id) } catch { throw Self.error(error) }
        guard let found else {
            throw EvidenceError(.notFound, "there is no evidence \(id): `automator evidence list` shows it")
        }
        return found
    }

    private func requireIncident(_ id: IncidentID) async throws(EvidenceError) {
        let incident: Incident?
        do { incident = try await store.loadIncident(id) } catch { throw Self.error(error) }
        guard incident != nil else {
            throw EvidenceError(.notFound, "there is no incident \(id): `automator incident list` shows them")
        }
    }

    static func error(_ error: StoreError) -> EvidenceError {
        EvidenceError(error.kind == .notFound ? .notFound : .unavailable, error.description)
    }
}

/// Where `EvidenceService.copy` writes evidence content.
public enum EvidenceDestination: Sendable {
    /// A file, replaced whole once the content is checked.
    case file(String)
    /// This process's standard output, for a pipe (`| sha256sum`); noted as such in the custody.
    case standardOutput
}
