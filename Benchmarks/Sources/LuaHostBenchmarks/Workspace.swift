import Foundation

/// Where the benchmark finds its files and tools, and where it writes scratch files.
struct Workspace {
    /// `Benchmarks/` in the repository.
    let benchmarks: URL
    let automator: String
    let lua: String
    let compiler: String
    /// A fresh folder, removed when the benchmark ends.
    let scratch: URL

    var subprocess: Subprocess { Subprocess(scratch: scratch) }

    /// A Lua workload in `Benchmarks/lua/`.
    func workload(_ name: String) -> URL { benchmarks.appendingPathComponent("lua/\(name)") }

    func source(of workload: URL) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: workload.path) else {
            throw BenchmarkError("cannot read \(workload.path)")
        }
        return Array(data)
    }

    /// The C baseline of the host-call figure, compiled into the harness too.
    var identitySource: URL { benchmarks.appendingPathComponent("Sources/CLuaBenchSupport/identity.c") }

    /// `Benchmarks/`, found from this source file: the harness runs from the source tree.
    static let sourceBenchmarks = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // LuaHostBenchmarks
        .deletingLastPathComponent()  // Sources
        .deletingLastPathComponent()  // Benchmarks
}

/// Writes a line to standard output at once, unbuffered, so progress shows while it measures.
func emit(_ text: String = "") {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

/// Writes a detail line under the part being measured; the table comes at the end.
func note(_ text: String) { emit("  " + text) }
