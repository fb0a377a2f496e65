import ArgumentParser
import AutomatorRuntime
import Foundation

extension IntelCommand {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a list of indicators against the local feeds, as JSON lines.",
            discussion: """
                One indicator per line (defanged or not; empty lines and lines starting with # \
                are skipped), or with --extract every indicator found in each line's text. Each \
                is looked up in the feeds of the configuration file, many at a time, and printed \
                as a line of JSON: {"type", "value", "verdict", "score", "summary", "sources", \
                "line"}, as intel lookup --json prints it, with the line it came from. A URL \
                also gets the verdicts of the feeds that list its host.

                Only the local feeds are asked, not the integrations: their rate limits \
                (VirusTotal's public key: 4 requests a minute) would take days over a long list. \
                Ask them of the indicators that matter with intel lookup.

                A line that is no indicator is reported on standard error with its number, and \
                the rest are checked all the same. Over 100,000 lines, a progress line goes to \
                standard error every 100,000.

                Exit status: 0 when every line was checked, 1 when some line was no indicator \
                or the input or the feeds could not be read.

                Examples:
                  automator intel check ips.txt --config automator.yml
                  automator intel check - --listed --config automator.yml < indicators.txt
                  automator intel check --extract firewall.log --listed \\
                      --config automator.yml \\
                      | jq -r 'select(.verdict == "malicious") | .value'
                """
        )

        @Argument(help: ArgumentHelp("The file to read; - or nothing for standard input.", valueName: "file"))
        var file = "-"

        @Option(help: ArgumentHelp("The configuration file whose feeds to check against.", valueName: "file"))
        var config: String?

        @Flag(help: "Check every indicator found in each line's text, not the line as one indicator.")
        var extract = false

        @Flag(help: "Print only the indicators some feed lists.")
        var listed = false

        /// Lines looked up together: one batch, one write of the output.
        private static let chunk = 4096
        /// Inputs longer than this get a progress line on standard error every this many lines.
        static let progressEvery = 100_000

        func run() throws {
            let feeds = try loadFeeds()
            let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: file)
            guard let data else { throw ValidationError("cannot read \(file): check that it exists and its permissions") }
            var lines = Array(data).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            if lines.last?.isEmpty == true { lines.removeLast() }  // after the last line's newline
            let index = feeds.index
            var bad = 0
            var start = 0
            while start < lines.count {
                let end = min(start + Self.chunk, lines.count)
                var queries: [FeedIndex.Query] = []
                var numbers: [Int] = []
                for number in start..<end {
                    for query in indicators(in: lines[number], number: number + 1, bad: &bad) {
                        queries.append(query)
                        numbers.append(number + 1)
                    }
                }
                var out = ""
                for (position, sources) in index.verdicts(for: queries).enumerated() where !listed || !sources.isEmpty {
                    let (type, value) = queries[position]
                    out += IntelJSON.verdict(Verdict(sources), type: type, value: value, line: numbers[position]) + "\n"
                }
                FileHandle.standardOutput.write(Data(out.utf8))
                if lines.count > Self.progressEvery, end / Self.progressEvery > start / Self.progressEvery {
                    let done = end / Self.progressEvery * Self.progressEvery
                    FileHandle.standardError.write(Data("intel check: \(done) of \(lines.count.counted("line"))\n".utf8))
                }
                start = end
            }
            if bad > 0 {
                FileHandle.standardError.write(Data(("intel check: \(bad) line\(bad == 1 ? " was" : "s were") no "
                    + "indicator\n").utf8))
                throw ExitCode.failure
            }
        }

        /// The feeds of `--config`, loaded; what could not be read is logged.
        private func loadFeeds() throws -> FeedSet {
            guard let config else {
                throw ValidationError("give --config with the configuration file whose feeds to check against")
            }
            let intel: IntelConfiguration
            do {
                intel = try IntelConfiguration(file: config)
            } catch {
                CommandLogging.report(error)
                throw ExitCode.failure
            }
            guard !intel.feeds.isEmpty else {
                throw ValidationError("\(config) declares no feeds: add them under feeds: (name, path, verdict)")
            }
            let feeds = FeedSet(intel.feeds, logger: CommandLogging.logger(verbose: false))
            guard feeds.statuses.contains(where: { $0.failure == nil }) else {
                FileHandle.standardError.write(Data("error: no feed of \(config) could be read (see above)\n".utf8))
                throw ExitCode.failure
            }
            return feeds
        }

        /// The indicators of line `number`; a line that is none is reported and counted in `bad`.
        private func indicators(in line: ArraySlice<UInt8>, number: Int, bad: inout Int) -> [FeedIndex.Query] {
            if extract { return Extractor.extract(line).map { ($0.type, $0.value) } }
            let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty || text.hasPrefix("#") { return [] }
            guard let indicator = NormalForms.indicator(text) else {
                bad += 1
                let shown = text.count > 80 ? text.prefix(80) + "..." : text
                FileHandle.standardError.write(Data(("line \(number): '\(shown)' is not \(ReputationService.indicators); "
                    + "write one indicator per line, or use --extract to find them in text\n").utf8))
                return []
            }
            return [indicator]
        }
    }
}
