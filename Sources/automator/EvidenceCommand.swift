import ArgumentParser
import AutomatorRuntime
import Foundation

struct EvidenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evidence",
        abstract: "Keep files as evidence on incidents, with their hashes and chain of custody; export and verify.",
        discussion: """
            A file added is copied into the data folder's vault (DATA/evidence/objects), or with \
            --store into the PostgreSQL database the workers share, named by its SHA-256, with its \
            MD5 and SHA-1 recorded too; a file of gigabytes is copied a megabyte at a time, and \
            checked against its SHA-256 whenever it is read back. Adding, exporting and verifying \
            more than 256 MiB print their progress on standard error every 256 MiB. Every addition is journaled on \
            the incident; every view and export is a custody event, by whoever runs the command \
            (cli:$USER, or cli:$SUDO_USER through sudo). `export` writes a ZIP bundle \
            of the incident's evidence, its journal and a manifest of every hash, signed with the \
            data folder's Ed25519 key; `verify` checks a bundle anywhere, without the data folder, \
            and the bundle's README.txt tells whoever receives it (counsel, HR) how to check it \
            without Automator, with OpenSSL and sha256sum.

            These commands work on the data folder (or the database) directly, also while \
            automator serve runs.

            Examples:
              automator evidence add INC-7 mail.eml --note "the reported message"
              automator evidence list INC-7
              automator evidence get EV-3f9a2c1d4e5b -o copy.eml
              automator evidence get EV-3f9a2c1d4e5b -o - | sha256sum
              automator evidence export INC-7 INC-7.zip
              automator evidence verify INC-7.zip
              PGPASSWORD=... automator evidence list INC-7 \\
                  --store postgres://automator@db.example:5432/automator
            """,
        subcommands: [Add.self, List.self, Get.self, Export.self, Verify.self]
    )

    static var actor: String { IncidentBackend.user.map { "cli:\($0)" } ?? "cli" }

    static func parseIncident(_ text: String) throws -> IncidentID {
        guard let id = IncidentID(text) else { throw ValidationError("'\(text)' is not an incident id: write it as INC-42") }
        return id
    }

    static func columns(_ evidence: Evidence) -> [String] {
        [evidence.id, evidence.incident.description, "\(evidence.size)", evidence.hashes.sha256, evidence.name]
    }
}

extension EvidenceCommand {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Keep a file as evidence on an incident.")

        @OptionGroup var folder: FolderOrStore
        @Argument(help: ArgumentHelp("The incident, such as INC-7.", valueName: "incident")) var incident: String
        @Argument(help: ArgumentHelp("The file. A name that is not UTF-8 (an attacker's) is recorded with each such "
                                     + "byte escaped (\\255) and a backslash doubled.", valueName: "file"))
        var file: String
        @Option(help: ArgumentHelp("What it is, for the record.", valueName: "text")) var note = ""
        @Option(help: ArgumentHelp("Its name in the record (default: the file's).", valueName: "name")) var name: String?
        @Option(help: ArgumentHelp("A tag; repeat for more.", valueName: "tag")) var tag: [String] = []

        func validate() throws {
            _ = try EvidenceCommand.parseIncident(incident)
            _ = try RawArguments.path(file)
        }

        func run() async throws {
            let id = try EvidenceCommand.parseIncident(incident)
            let path = try RawArguments.path(file)
            let progress = ProgressLine("evidence add \(path)")
            let evidence = try await folder.evidence { service in
                try await service.add(file: path, to: id, name: name, description: note, tags: tag, source: "cli",
                                      by: EvidenceCommand.actor, progress: progress.update)
            }
            printVisible("\(evidence.id) added to \(id): \(evidence.name), \(evidence.size.counted("byte"))")
            print("  sha256 \(evidence.hashes.sha256)\n  sha1   \(evidence.hashes.sha1)\n  md5    \(evidence.hashes.md5)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List evidence: of one incident, or all.")

        @OptionGroup var folder: FolderOrStore
        @Argument(help: ArgumentHelp("Only this incident's.", valueName: "incident")) var incident: String?

        func validate() throws { if let incident { _ = try EvidenceCommand.parseIncident(incident) } }

        func run() async throws {
            let id = try incident.map(EvidenceCommand.parseIncident)
            let list = try await folder.evidence { service in try await service.list(of: id) }
            guard !list.isEmpty else { return print("no evidence" + (id.map { " on \($0)" } ?? "")) }
            printVisible(TextTable.render([["ID", "INCIDENT", "BYTES", "SHA256", "NAME"]]
                + list.map(EvidenceCommand.columns)))
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show evidence with its chain of custody; -o copies its content out (noted as an export).",
            discussion: """
                With -o -, the content goes to standard output and nothing else does, for a pipe \
                (`-o - | sha256sum`); the custody notes an export to standard output. The content is \
                checked against its SHA-256 before its first byte is written.
                """)

        @OptionGroup var folder: FolderOrStore
        @Argument(help: ArgumentHelp("The evidence, such as EV-3f9a2c1d4e5b.", valueName: "id")) var id: String
        @Option(name: .shortAndLong, help: ArgumentHelp("Copy the content to this file; - for standard output.",
                                                        valueName: "file"))
        var output: String?

        func validate() throws { if let output { _ = try RawArguments.outputPath(output) } }

        func run() async throws {
            if output == "-" {
                return try await folder.evidence { service in
                    try await service.copy(id, to: .standardOutput, by: EvidenceCommand.actor)
                }
            }
            let (evidence, custody) = try await folder.evidence { service in
                if let output { try await service.copy(id, to: .file(output), by: EvidenceCommand.actor) }
                return try await service.get(id, by: EvidenceCommand.actor)
            }
            printVisible("""
                \(evidence.id) on \(evidence.incident): \(evidence.name)
                  \(evidence.size.counted("byte")), collected by \(evidence.collectedBy) from \(evidence.source) at \
                \(JSONText.time(evidence.collectedAt).dropFirst().dropLast())
                  sha256 \(evidence.hashes.sha256)
                  sha1   \(evidence.hashes.sha1)
                  md5    \(evidence.hashes.md5)
                """)
            if !evidence.description.isEmpty { printVisible("  " + evidence.description) }
            if !evidence.tags.isEmpty { printVisible("  tags: " + evidence.tags.joined(separator: ", ")) }
            printVisible("custody:\n" + TextTable.render([["TIME (UTC)", "ACTION", "ACTOR", "DETAIL"]] + custody.map { event in
                [IncidentOutput.time(JSONText.time(event.at).dropFirst().dropLast().description), event.action.rawValue,
                 event.actor, event.detail]
            }, indent: "  "))
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an incident's evidence, journal and signed manifest as a ZIP bundle.",
            discussion: """
                For whoever it is handed to, who may have no Automator: journal.txt is the journal to \
                read (times in UTC, as everywhere in the bundle), SHA256SUMS every file's hash for \
                sha256sum -c, and README.txt what the bundle holds and how to check its signature with \
                OpenSSL. The signed manifest covers them all. Give the recipient the public key apart \
                from the bundle (as `journal checkpoint` prints it): the README names the key that \
                signed, which anyone can make.
                """)

        @OptionGroup var folder: FolderOrStore
        @Argument(help: ArgumentHelp("The incident.", valueName: "incident")) var incident: String
        @Argument(help: ArgumentHelp("The bundle to write, such as INC-7.zip, with mode 0600 (only you "
                                     + "read it, as the vault's files).", valueName: "out.zip")) var output: String
        @Flag(help: """
            Export even when the incident's journal does not verify, with where it breaks written in the \
            signed manifest (evidence verify then fails on it). Without it, such a journal is refused.
            """)
        var brokenJournal = false

        func validate() throws {
            _ = try EvidenceCommand.parseIncident(incident)
            _ = try RawArguments.outputPath(output)
        }

        func run() async throws {
            let id = try EvidenceCommand.parseIncident(incident)
            let progress = ProgressLine("evidence export \(id)")
            let count = try await folder.evidence { service in
                try DataFolder.prepare(folder.data)  // with --store, for the signing key only
                return try await service.export(id, to: output, by: EvidenceCommand.actor, brokenJournal: brokenJournal,
                                                progress: progress.update)
            }
            print("\(output): \(count.counted("evidence file")) of \(id), its journal and a signed manifest; "
                + "its README.txt says how to check it without Automator")
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a bundle: the manifest's signature, and every file's hashes against it.",
            discussion: """
                Needs no data folder. Exits 0 and prints the key that signed it (compare it with the \
                one `automator journal checkpoint` printed, or give that key as --public-key to have it \
                compared), or names what was changed and exits 1. \
                A bundle zipped again (compressed, folders added) whose every file still matches the \
                signed manifest verifies, with a note that it was repacked: its evidence is intact, \
                but a hash taken of the .zip itself at export no longer matches it. An entry the \
                manifest does not cover fails, a second copy of manifest.json (which unzip would \
                extract in place of the signed one) included.
                """)

        @Argument(help: ArgumentHelp("The bundle.", valueName: "bundle.zip")) var bundle: String
        @Option(help: ArgumentHelp("The data folder's public key, as journal checkpoint printed it: a bundle "
                                   + "signed by any other key fails.", valueName: "base64"))
        var publicKey: String?

        func validate() throws {
            _ = try RawArguments.path(bundle)
            if let publicKey, Data(base64Encoded: publicKey)?.count != 32 {
                throw ValidationError("--public-key takes the 32-byte key in base64 that journal checkpoint printed")
            }
        }

        func run() async throws {
            let path = try RawArguments.path(bundle)
            do {
                let verified = try EvidenceBundle.verify(path, progress: ProgressLine("evidence verify \(path)").update)
                print("\(path) verified: \(verified.files.counted("evidence file")) and "
                    + "\(verified.journalEntries.counted("journal entry", "journal entries")) of \(verified.incident), signed by \(verified.publicKey)")
                if let repacked = verified.repacked {
                    print("note: \(path) was repacked (\(repacked)): every file's content matches the signed "
                        + "manifest, but the archive is not the one exported: a hash of the .zip taken at export no "
                        + "longer matches it")
                }
                if let publicKey, Data(base64Encoded: publicKey) != Data(base64Encoded: verified.publicKey) {
                    print("error: \(path) is signed by \(verified.publicKey), not by the key given (--public-key): it "
                        + "was not exported by that data folder, or its manifest was signed again")
                    throw ExitCode.failure
                }
                if let broken = verified.journalBroken {
                    print("error: the journal in \(path) did not verify when it was exported (\(broken)): its entries "
                        + "are not the record")
                    throw ExitCode.failure
                }
            } catch let exit as ExitCode {
                throw exit
            } catch {
                // On standard output, as the verdict is: a script reads one stream for it.
                print("error: \(error)")
                throw ExitCode.failure
            }
        }
    }
}

extension FolderOrStore {
    /// Runs `body` with the evidence service of the store; a failure prints `error: ...` and
    /// exits 1.
    func evidence<T>(_ body: (EvidenceService) async throws -> T) async throws -> T {
        try await perform { store in try await body(EvidenceService(store: store, dataFolder: data)) }
    }
}
