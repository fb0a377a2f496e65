public import Foundation

/// What `automator test` found: per file, its tests and their failures, for people and as JUnit
/// XML for CI systems.
public struct PlaybookTestReport: Sendable {
    public var files: [File]

    public init(files: [File]) { self.files = files }

    public struct File: Sendable {
        public var path: String
        public var cases: [Case] = []
        /// The file itself failed: it did not load or failed outside its tests.
        public var problem: String?

        init(path: String, cases: [Case] = [], problem: String? = nil) {
            self.path = path
            self.cases = cases
            self.problem = problem
        }
    }

    public struct Case: Sendable {
        public var name: String
        /// `file:line: message`; nil when it passed.
        public var failure: String?
        public var seconds: TimeInterval
    }

    public var total: Int { files.reduce(0) { $0 + $1.cases.count } }
    public var failed: Int { files.reduce(0) { $0 + $1.cases.count { $0.failure != nil } + ($1.problem == nil ? 0 : 1) } }

    /// The JUnit XML that CI systems read: a testsuite per file, a testcase per test.
    public var junit: String {
        var xml = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        xml += #"<testsuites tests="\#(total)" failures="\#(failed)">"# + "\n"
        for file in files {
            let failures = file.cases.count { $0.failure != nil } + (file.problem == nil ? 0 : 1)
            let time = file.cases.reduce(0) { $0 + $1.seconds }
            xml += #"  <testsuite name="\#(Self.escape(file.path))" tests="\#(file.cases.count)" failures="\#(failures)" time="\#(Self.seconds(time))">"#
                + "\n"
            if let problem = file.problem {
                xml += #"    <testcase name="(loading the file)" classname="\#(Self.escape(file.path))">"# + "\n"
                xml += #"      <failure message="\#(Self.escape(Self.firstLine(problem)))">\#(Self.escape(problem))</failure>"# + "\n"
                xml += "    </testcase>\n"
            }
            for test in file.cases {
                let opening = #"    <testcase name="\#(Self.escape(test.name))" classname="\#(Self.escape(file.path))" time="\#(Self.seconds(test.seconds))""#
                if let failure = test.failure {
                    xml += opening + ">\n"
                    xml += #"      <failure message="\#(Self.escape(Self.firstLine(failure)))">\#(Self.escape(failure))</failure>"# + "\n"
                    xml += "    </testcase>\n"
                } else {
                    xml += opening + "/>\n"
                }
            }
            xml += "  </testsuite>\n"
        }
        return xml + "</testsuites>\n"
    }

    private static func firstLine(_ text: String) -> String { String(text.prefix { $0 != "\n" }) }

    private static func seconds(_ value: TimeInterval) -> String { String(format: "%.3f", value) }

    /// `text` for XML: HTML's escapes, and `?` for the control characters XML 1.0 cannot carry.
    private static func escape(_ text: String) -> String {
        let printable = text.unicodeScalars.map { $0.value < 0x20 && $0 != "\n" && $0 != "\t" ? "?" : String($0) }
        return ReportHTML.escape(printable.joined())
    }
}
