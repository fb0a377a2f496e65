import ArgumentParser
import AutomatorRuntime
import AutomatorServer
import Foundation

struct IntelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intel",
        abstract: "Find indicators in text, and ask what the feeds and integrations say of them.",
        discussion: """
            Examples:
              automator intel extract report.txt
              cat chat.log | automator intel extract --per-line
              automator intel lookup 203.0.113.7
              automator intel lookup 'hxxps://evil[.]example/pay' --json
              automator intel check ips.txt --listed --config automator.yml
              automator intel export --format stix -o indicators.json
            """,
        subcommands: [Extract.self, Lookup.self, Check.self, Export.self]
    )
}

extension IntelCommand {
    struct Extract: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the indicators in a file or standard input, as JSON lines.",
            discussion: """
                Each indicator once, in order: {"type": T, "value": V, "start": BYTE, "end": BYTE}, \
                the value in normal form (refanged, host names in lower case and IDN as A-labels, \
                IPv6 compressed, hashes in lower case, CVEs in upper case) and its byte offsets in \
                the document (end excluded). Types: ipv4, ipv6, domain, url, email, md5, sha1, \
                sha256, sha512, cve. With --per-line, each line is a document of its own and \
                carries "line": N (from 1), its offsets within the line.

                Examples:
                  automator intel extract report.txt
                  automator intel extract - --per-line < chat.log \\
                      | jq -r 'select(.type == "url") | .value'
                """
        )

        @Argument(help: ArgumentHelp("The file to read; - or nothing for standard input.", valueName: "file"))
        var file = "-"

        @Flag(help: "Take each line as a document of its own.")
        var perLine = false

        func run() throws {
            let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: file)
            guard let data else { throw ValidationError("cannot read \(file): check that it exists and its permissions") }
            var out = ""
            if perLine {
                for (index, line) in Array(data).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
                    for indicator in Extractor.extract(line) { out += IntelJSON.indicator(indicator, line: index + 1) + "\n" }
                    if out.utf8.count > 1 << 16 {
                        FileHandle.standardOutput.write(Data(out.utf8))
                        out = ""
                    }
                }
            } else {
                for indicator in Extractor.extract(Array(data)) { out += IntelJSON.indicator(indicator) + "\n" }
            }
            FileHandle.standardOutput.write(Data(out.utf8))
        }
    }

    struct Lookup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Say whether an IP, domain, URL, e-mail address or hash is bad, and why.",
            discussion: """
                Asks the local feeds and every integration that handles the indicator's kind \
                (scripts/integrations), and shows the verdict with each source's answer. When an \
                automator serve holds the data folder, it asks the server (and its cache); \
                otherwise it works on the folder directly, with --config and --scripts.

                Exit status: 0 when a verdict was given (whatever it is), 1 when the lookup \
                failed, 64 for a usage error (a value that is no indicator).

                Examples:
                  automator intel lookup 203.0.113.7
                  automator intel lookup 44d88612fea8a8f36de82e1278abb02f --json
                  automator intel lookup evil.example --config automator.yml --scripts scripts
                """
        )

        @Argument(help: ArgumentHelp("The indicator, defanged or not.", valueName: "value"))
        var value: String

        @Option(help: ArgumentHelp("The data folder of automator serve (its cache).", valueName: "folder"))
        var data = FolderAccess.defaultFolder

        @Option(help: ArgumentHelp("The folder of integrations/, used when no server holds the data folder.",
                                   valueName: "folder"))
        var scripts = "./scripts"

        @Option(help: ArgumentHelp("The configuration file (feeds, integrations' settings), used when no server "
            + "holds the data folder.", valueName: "file"))
        var config: String?

        @Flag(help: "Print the API's JSON.")
        var json = false

        func validate() throws {
            try FolderAccess.requireFolder(data)
            guard NormalForms.indicator(value) != nil else {
                throw ValidationError("'\(value)' is not \(ReputationService.indicators)")
            }
        }

        func run() async throws {
            let text: String
            do {
                text = try await answer()
            } catch {
                CommandLogging.report(error)
                throw ExitCode.failure
            }
            if json { print(text) } else { printVisible(try IntelOutput.verdict(text)) }
        }

        private func answer() async throws -> String {
            let (type, normal) = NormalForms.indicator(value)!
            switch try FolderAccess.open(data) {
            case .server(let client):
                // The server's feeds and integrations answer: a file given here would look used.
                if let config {
                    CommandLogging.note("automator serve holds \(data) and answers with its own configuration: "
                        + "\(config) is not read (stop serve, or give serve --config \(config))")
                }
                return try await client.call("GET", "/api/v1/intel/reputation?type=\(type.rawValue)&value="
                    + ServerClient.pathSegment(normal))
            case .direct(let lock):
                let logger = CommandLogging.logger(verbose: false)
                let intel = try config.map { try IntelConfiguration(file: $0) } ?? IntelConfiguration()
                let store = try CommandStores.sqlite(folder: data)
                let integrations = await Integrations(folder: scripts + "/integrations", settings: intel.integrations,
                                                      quotas: store, logger: logger)
                let service = ReputationService(feeds: FeedSet(intel.feeds, logger: logger), integrations: integrations,
                                                cache: store, ttl: intel.cacheTTL)
                let verdict = await service.reputation(of: type, normal)
                integrations.shutdown()
                await store.close()
                withExtendedLifetime(lock) {}
                return IntelJSON.verdict(verdict, type: type, value: normal)
            }
        }
    }
}

extension IntelCommand {
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the indicators looked up, with their verdicts, as a STIX 2.1 bundle.",
            discussion: """
                One indicator object per IP, domain, URL, e-mail address or hash that was looked \
                up (by playbooks, chat, or intel lookup), its pattern an equality on its value, \
                its indicator_types and labels from its last verdict, and the verdict's reasons \
                as its description. Ids are stable: exporting again updates the same objects.

                Examples:
                  automator intel export -o indicators.json
                  automator intel export --data /var/lib/automator | jq '.objects | length'
                """
        )

        @Option(help: ArgumentHelp("The export's format; stix (2.1) is the only one.", valueName: "format"))
        var format = "stix"

        @Option(name: .shortAndLong, help: ArgumentHelp("Write to this file instead of standard output.",
                                                        valueName: "file"))
        var output: String?

        @Option(help: ArgumentHelp("The data folder of automator serve.", valueName: "folder"))
        var data = FolderAccess.defaultFolder

        func validate() throws {
            try FolderAccess.requireFolder(data)
            guard format == "stix" else { throw ValidationError("--format takes stix (STIX 2.1), not '\(format)'") }
        }

        func run() async throws {
            let bundle: String
            do {
                switch try FolderAccess.open(data) {
                case .server(let client):
                    bundle = try await client.call("GET", "/api/v1/intel/export?format=stix")
                case .direct(let lock):
                    let store = try CommandStores.sqlite(folder: data)
                    bundle = STIXBundle.make(try await store.seenIndicators())
                    await store.close()
                    withExtendedLifetime(lock) {}
                }
                if let output {
                    try Data(bundle.utf8).write(to: URL(fileURLWithPath: output))
                } else {
                    FileHandle.standardOutput.write(Data(bundle.utf8))
                }
            } catch {
                CommandLogging.report(error)
                throw ExitCode.failure
            }
        }
    }
}

/// Verdicts for people.
enum IntelOutput {
    private struct Answer: Decodable {
        struct Source: Decodable {
            var source: String
            var verdict: String
            var reliability: String
            var reason: String
        }

        var type: String
        var value: String
        var verdict: String
        var summary: String
        var sources: [Source]
    }

    static func verdict(_ json: String) throws -> String {
        let answer = try JSONDecoder().decode(Answer.self, from: Data(json.utf8))
        let width = answer.sources.map(\.source.count).max() ?? 0
        var lines = ["\(answer.value) (\(answer.type)): \(answer.verdict)", "  \(answer.summary)"]
        for source in answer.sources {
            lines.append("  " + source.source.padding(toLength: width, withPad: " ", startingAt: 0)
                + "  \(source.reliability)  " + source.verdict.padding(toLength: 10, withPad: " ", startingAt: 0)
                + " " + source.reason)
        }
        return lines.joined(separator: "\n")
    }
}
