import Foundation
import Testing

/// The HTML report as a person sees it: Debian's Chromium, headless, on a phone's screen (390 by
/// 844 CSS pixels). Chromium must be installed (`apt-get install -y chromium`): without it the
/// test fails, saying so. The screenshot and the printed PDF are kept in
/// `.build/test-artifacts/`.
@Suite("The HTML report in headless Chromium", .timeLimit(.minutes(2)))
struct ReportBrowserTests {
    static let charts = ["chart-days", "chart-types", "chart-severities", "chart-sla", "chart-sla-severity",
                         "chart-playbooks", "chart-actions"]

    /// Where the screenshot goes: the package's `.build/test-artifacts/`.
    static let artifacts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/test-artifacts")

    @Test("On a phone: no console message, every chart drawn, a screenshot and a printout kept")
    func phone() async throws {
        let chromium = try #require(Self.chromium(), "Chromium is missing: install it with apt-get install -y chromium")
        let setting = try await ReportCommandTests.Setting()
        let made = try await setting.automator(["report", "-o", "report.html"] + ReportCommandTests.Setting.window)
        #expect(made.status == 0, "\(made.stderr)")
        let page = setting.folder.url.appendingPathComponent("report.html").absoluteString
        let profile = setting.folder.url.appendingPathComponent("chromium-profile").path
        let common = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=" + profile,
                      "--window-size=390,844"]

        // The DOM as Chromium built it, and every console message it logged (the page has no
        // script: any message is a problem: a resource refused, a parse error).
        let dom = try await Self.run(chromium, common + ["--enable-logging=stderr", "--log-level=0", "--dump-dom", page])
        #expect(dom.status == 0, "\(dom.stderr)")
        let console = dom.stderr.split(separator: "\n").filter { $0.contains(":CONSOLE") }
        #expect(console.isEmpty, "console: \(console)")
        for chart in Self.charts {
            let svg = dom.stdout.firstRange(of: #"<svg id="\#(chart)""#).map { dom.stdout[$0.lowerBound...] }
            let drawn = svg.map { $0[..<($0.firstRange(of: "</svg>")?.lowerBound ?? $0.endIndex)] }
            #expect(drawn?.contains("<rect ") == true, "\(chart) is missing or has no bars")
        }
        #expect(!dom.stdout.contains("<script"))

        try FileManager.default.createDirectory(at: Self.artifacts, withIntermediateDirectories: true)
        let screenshot = Self.artifacts.appendingPathComponent("report-phone.png")
        try? FileManager.default.removeItem(at: screenshot)
        let shot = try await Self.run(chromium, common + ["--screenshot=" + screenshot.path, page])
        #expect(shot.status == 0, "\(shot.stderr)")
        let png = try Data(contentsOf: screenshot)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        // The IHDR chunk's width, big-endian at byte 16: the phone's 390 pixels.
        #expect(png.count > 24 && png[16..<20].reduce(0) { $0 << 8 | Int($1) } == 390)
        print("report screenshot: \(screenshot.path)")

        let printout = Self.artifacts.appendingPathComponent("report-print.pdf")
        try? FileManager.default.removeItem(at: printout)
        let printed = try await Self.run(chromium, common + ["--no-pdf-header-footer", "--print-to-pdf=" + printout.path,
                                                             page])
        #expect(printed.status == 0, "\(printed.stderr)")
        #expect(try Data(contentsOf: printout).starts(with: Array("%PDF".utf8)))
    }

    /// Debian's `chromium` on the PATH.
    static func chromium() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/chromium" }.first(where: FileManager.default.isExecutableFile)
    }

    static func run(_ executable: String, _ arguments: [String]) async throws -> AutomatorProcess.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        return try await AutomatorProcess.collect(process, input: nil)
    }
}
