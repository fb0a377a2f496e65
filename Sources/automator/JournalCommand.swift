import ArgumentParser
import AutomatorRuntime
import AutomatorServer
import Foundation

struct JournalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "Read an incident's journal, and check that no entry was changed.",
        discussion: """
            Every note, task, field change, playbook step and chat message lands in its \
            incident's journal, append-only. Each entry carries the SHA-256 of its content and of \
            the entry before it in its incident, and the whole journal is chained the same way, so \
            an entry changed, removed or reordered in the database breaks the hashes from there on: \
            `journal verify` recomputes them and names the first broken entry. `journal checkpoint` \
            signs the chain's head with the data folder's Ed25519 key (journal-signing.key, made on \
            first use), which also catches entries cut from the end. Whoever holds the data folder \
            can also cut the checkpoints, or sign with a key of their own: keep what `journal \
            checkpoint` prints where they cannot change it, and give it to `journal verify`.
            """,
        subcommands: [Show.self, Verify.self, Checkpoint.self]
    )
}

extension JournalCommand {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print an incident's journal; with --follow, go on printing entries as they come.",
            discussion: """
                It reads the store directly, as journal verify does, also while automator serve runs: \
                the data folder's, or the workers' PostgreSQL database (the one --data's worker uses, \
                or --store from any machine that reaches it). So it needs no worker running, and \
                --follow goes on while workers stop, die and start, as long as the database answers.

                Examples:
                  automator journal show INC-7
                  automator journal show INC-7 --follow
                  PGPASSWORD=... automator journal show INC-7 --follow \\
                      --store postgres://automator@db.example:5432/automator
                """
        )

        @OptionGroup var folder: FolderOrStore
        @OptionGroup var incident: OneIncident

        @Flag(help: "Keep printing new entries (every second) until interrupted.")
        var follow = false

        func run() async throws {
            let id = incident.incident
            try await folder.perform { store in
                guard try await store.loadIncident(id) != nil else {
                    throw CommandFailure("there is no incident \(id): `automator incident list` shows the incidents")
                }
                var last: Int64 = 0
                repeat {
                    // The entries after the last one printed, a page at a time, each printed as it comes.
                    while true {
                        let entries = try await store.journal(of: id, after: last, limit: IncidentService.journalPageEntries,
                                                              bytes: IncidentService.journalPageBytes)
                        guard let page = entries.last?.sequence else { break }
                        printVisible(try IncidentOutput.journal(IncidentJSON.page(entries, more: false), heading: last == 0))
                        last = page
                    }
                    if last == 0 && !follow { print("\(id): the journal is empty") }
                    fflush(nil)
                    if follow { try? await Task.sleep(for: .seconds(1)) }
                } while follow && !Task.isCancelled
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the journal's hashes and check its signed checkpoints.",
            discussion: """
                Prints `journal verified: N entries, M checkpoints` and exits 0, or names the first \
                broken entry (its sequence, incident and what is wrong) and exits 1. With an incident, \
                only its entries are checked. It reads the store directly, even while automator serve \
                runs: the data folder's, or with --store the workers' PostgreSQL database (whose \
                checkpoints are trusted when signed with the key of --data). With neither that key nor \
                --public-key, each checkpoint is checked against the key it names only, and a note \
                says so: anyone can sign with a key of their own.

                The stored checkpoints prove that no entry before them changed, as long as they are \
                there and signed by the right key: --public-key and --checkpoint give what `journal \
                checkpoint` printed, kept outside the data folder, so that a journal cut with its \
                checkpoints, or signed again with another key, fails too.

                Examples:
                  automator journal verify
                  automator journal verify INC-7
                  automator journal verify --public-key MCowBQYDK2Vw... \\
                      --checkpoint 1234:9f86d081884c7d65...
                  PGPASSWORD=... automator journal verify \\
                      --store postgres://automator@db.example:5432/automator
                """
        )

        @OptionGroup var folder: FolderOrStore

        @Argument(help: ArgumentHelp("Only this incident's entries.", valueName: "id"))
        var incident: String?

        @Option(help: ArgumentHelp("The signing key's public half as `journal checkpoint` printed it (base64): every "
                                   + "stored checkpoint must be signed with it.", valueName: "base64"))
        var publicKey: String?

        @Option(help: ArgumentHelp("A checkpoint as `journal checkpoint` printed it (SEQUENCE:CHAIN): the journal must "
                                   + "still hold it. Repeatable.", valueName: "sequence:chain"))
        var checkpoint: [String] = []

        func validate() throws {
            if let incident, IncidentID(incident) == nil {
                throw ValidationError("'\(incident)' is not an incident id: write it as INC-42")
            }
            if incident != nil, publicKey != nil || !checkpoint.isEmpty {
                throw ValidationError("--public-key and --checkpoint check the whole journal: leave out the incident")
            }
            _ = try kept()
        }

        /// What the person kept, from the options.
        private func kept() throws -> JournalKept {
            let key = try publicKey.map { text in
                guard let key = Data(base64Encoded: text), key.count == 32 else {
                    throw ValidationError("--public-key takes the 32-byte key in base64 that journal checkpoint printed")
                }
                return Array(key)
            }
            let anchors = try checkpoint.map { text in
                guard let anchor = JournalKept.Anchor(text) else {
                    throw ValidationError("--checkpoint takes SEQUENCE:CHAIN as journal checkpoint printed it "
                        + "(1234: then 64 hexadecimal digits), not '\(text)'")
                }
                return anchor
            }
            return JournalKept(publicKey: key, checkpoints: anchors)
        }

        func run() async throws {
            let kept = try kept()
            let verification = try await folder.perform { store in
                try await store.verifyJournal(of: incident.flatMap(IncidentID.init), expecting: kept)
            }
            if let problem = verification.problem {
                print("journal broken: \(problem)")
                print("(\(verification.entries.counted("entry", "entries")) before it verified)")
                throw ExitCode.failure
            }
            if let id = incident.flatMap(IncidentID.init), verification.entries == 0 {
                // An incident's journal starts with its creation: none is no such incident, or a cut.
                CommandLogging.report(CommandFailure("\(id) has no journal entry: there is no such incident "
                    + "(automator incident list shows them), or its entries were removed (automator journal verify "
                    + "checks the whole journal)"))
                throw ExitCode.failure
            }
            print("journal verified: \(verification.entries.counted("entry", "entries"))"
                + (incident == nil ? ", \(verification.checkpoints.counted("checkpoint"))" : "")
                + (incident == nil ? verification.lastCheckpoint.map {
                    " (the last signed " + JSONText.time($0.at).dropFirst().dropLast() + ", at entry \($0.sequence))"
                } ?? "" : "")
                + (kept.checkpoints.isEmpty ? "" : "; the kept checkpoints hold"))
            let keyFile = JournalSignature.path(in: folder.data)
            if incident == nil, kept.publicKey == nil, let last = verification.lastCheckpoint,
               !FileManager.default.fileExists(atPath: keyFile)
            {
                // Each checkpoint matches the key it names, but nothing says that key is the right one.
                CommandLogging.note("the checkpoints were checked against the key they name, "
                    + "\(Data(last.publicKey).base64EncodedString()), not a key you trust: \(keyFile) is missing. "
                    + "Give --public-key with the key journal checkpoint printed (or verify with the signing "
                    + "worker's --data)")
            }
            if incident == nil, verification.checkpoints == 0, verification.entries > 0,
               FileManager.default.fileExists(atPath: keyFile)
            {
                CommandLogging.note("\(keyFile) exists but no checkpoint is stored: they "
                    + "were removed, or none was signed yet (automator journal checkpoint signs one)")
            } else if incident == nil, verification.checkpoints == 0, verification.entries > 0, kept.checkpoints.isEmpty {
                // "verified" alone read as tamper-proof: without a checkpoint, a cut end passes.
                CommandLogging.note("no checkpoint is signed yet, so entries cut from the journal's end would not "
                    + "show: automator journal checkpoint signs the first (and automator serve one every hour after)")
            }
            if incident == nil {
                for key in (try? JournalRetiredKey.load(from: folder.data)) ?? [] {
                    CommandLogging.note("the checkpoints up to entry \(key.through) are signed by the key "
                        + "\(key.publicKey.base64EncodedString()), retired \(JSONText.time(key.retiredAt).dropFirst().dropLast()) "
                        + "by \(key.retiredBy) when it was lost (\(JournalRetiredKey.path(in: folder.data)))")
                }
            }
        }
    }

    struct Checkpoint: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign the journal's chain as it is now with the data folder's key.",
            discussion: """
                The key is DATA/journal-signing.key (Ed25519, mode 0600), made on first use; keep a \
                copy of its public key (printed here) where the data folder's users cannot change \
                it. automator serve signs a checkpoint every hour while the key exists. With --store, \
                the workers' PostgreSQL journal is signed, with the key of --data.

                A folder whose journal holds checkpoints but which has no key (restored without \
                it) is refused a new one: restore journal-signing.key from the backup (automator \
                store backup copies it). If it is lost, --new-key starts a new key on purpose: the \
                old key is recorded as retired in DATA/journal-signing.retired (its public key, the \
                last entry it signed, who retired it and when), so that its checkpoints still verify.

                Examples:
                  automator journal checkpoint
                  automator journal checkpoint --new-key
                """
        )

        @OptionGroup var folder: FolderOrStore

        @Flag(help: "Start a new key in place of a lost one, retiring the key of the stored checkpoints.")
        var newKey = false

        func run() async throws {
            let signed = try await folder.perform { store -> (JournalCheckpoint, [UInt8])? in
                try DataFolder.prepare(folder.data)  // with --store, for the signing key only
                let (signature, retired) = newKey
                    ? try await JournalSignature.replaceLost(in: folder.data, for: store, by: IncidentBackend.actor)
                    : (try await JournalSignature.loadOrCreate(in: folder.data, for: store), [])
                for key in retired {
                    CommandLogging.note("the key \(key.publicKey.base64EncodedString()) is retired: its checkpoints up "
                        + "to entry \(key.through) still verify (\(JournalRetiredKey.path(in: folder.data)))")
                }
                guard let head = try await store.journalHead() else { return nil }
                let checkpoint = try signature.checkpoint(sequence: head.sequence, chain: head.chain)
                try await store.write(.addCheckpoint(checkpoint))
                return (checkpoint, signature.publicKey)
            }
            guard let (checkpoint, publicKey) = signed else { return print("the journal is empty: nothing to sign") }
            let anchor = JournalKept.Anchor(sequence: checkpoint.sequence, chain: checkpoint.chain)
            print("""
                checkpoint of entry \(checkpoint.sequence) signed; public key \(Data(publicKey).base64EncodedString())
                to check the journal against it later, keep this command where the data folder's users cannot change it:
                  automator journal verify --public-key \(Data(publicKey).base64EncodedString()) --checkpoint \(anchor.description)
                """)
        }
    }
}
