import AutomatorRuntime
import CLuaBenchSupport
import Foundation

/// Figure 1: what a Lua→Swift host call costs, against a Lua→C call in the stock interpreter.
///
/// The same workload (`lua/call_loop.lua`) times a loop of calls and an empty loop of the same
/// length with `os.clock`, in three places; the empty loop is subtracted in each:
/// - stock `lua5.4`, calling `bench_identity` from a shared library built now from
///   `identity.c` and loaded with `package.loadlib` (a child process);
/// - Automator's sandbox, calling `bench.identity`, a Swift host function (in process);
/// - Automator's sandbox, calling the same C function, set in the base (in process, context).
/// Repetitions alternate between the three; each figure is the median.
struct HostCallBenchmark {
    let workspace: Workspace
    let iterations: Int
    let repetitions: Int

    func run() throws -> [Figure] {
        let library = try buildLibrary()
        let sandbox = try Sandbox(modules: [BenchModule()])
        let L = try LuaStatePointer.of(sandbox.state)
        guard bench_add_base_function(L, "bench_c", "identity", bench_identity) == LUA_OK else {
            throw BenchmarkError("could not add bench_c.identity to the sandbox's base")
        }
        let loop = workspace.workload("call_loop.lua")
        let source = try workspace.source(of: loop)

        var stock: [Sample] = []
        var swift: [Sample] = []
        var cInSandbox: [Sample] = []
        for _ in 0..<repetitions {
            stock.append(try runStock(library: library, loop: loop))
            swift.append(try runInSandbox(sandbox, source: source, path: loop.path, function: "bench.identity"))
            cInSandbox.append(try runInSandbox(sandbox, source: source, path: loop.path, function: "bench_c.identity"))
        }

        let stockCall = Statistics.median(stock.map(\.nanosecondsPerCall))
        let swiftCall = Statistics.median(swift.map(\.nanosecondsPerCall))
        let cCall = Statistics.median(cInSandbox.map(\.nanosecondsPerCall))
        note("\(iterations) calls, \(repetitions) repetitions; ns per call with the empty loop subtracted")
        let variants = [("stock lua5.4, Lua→C", stock), ("sandbox, Lua→Swift", swift), ("sandbox, Lua→C", cInSandbox)]
        for (label, samples) in variants {
            let calls = samples.map { Figure.format($0.nanosecondsPerCall) }.joined(separator: " ")
            let empty = Statistics.median(samples.map(\.nanosecondsPerEmptyIteration))
            note("\(label): \(calls) (empty loop \(Figure.format(empty)) ns/iteration)")
        }
        return [
            Figure(
                name: "Lua→Swift host call (sandbox) vs Lua→C (stock lua5.4)", value: swiftCall, unit: "ns/call",
                goal: .ratioAtMost(2), ratio: swiftCall / stockCall),
            Figure(name: "Lua→C call, stock lua5.4 (baseline)", value: stockCall, unit: "ns/call"),
            Figure(
                name: "Lua→C call, sandbox (context)", value: cCall, unit: "ns/call", ratio: cCall / stockCall),
        ]
    }

    /// One repetition: the call loop's and the empty loop's CPU times.
    struct Sample {
        var calls: Double
        var empty: Double
        var iterations: Int

        var nanosecondsPerCall: Double { (calls - empty) / Double(iterations) * 1e9 }
        var nanosecondsPerEmptyIteration: Double { empty / Double(iterations) * 1e9 }
    }

    private func buildLibrary() throws -> String {
        let library = workspace.scratch.appendingPathComponent("bench_identity.so").path
        _ = try workspace.subprocess.check([
            workspace.compiler, "-O2", "-shared", "-fPIC", "-I/usr/include/lua5.4",
            "-o", library, workspace.identitySource.path,
        ])
        return library
    }

    private func runStock(library: String, loop: URL) throws -> Sample {
        let result = try workspace.subprocess.check([
            workspace.lua, workspace.workload("stock_call.lua").path, library, loop.path, String(iterations),
        ])
        let times = result.standardOutput.split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
        guard times.count == 2 else {
            throw BenchmarkError("stock_call.lua printed \(result.standardOutput.debugDescription)")
        }
        return Sample(calls: times[0], empty: times[1], iterations: iterations)
    }

    private func runInSandbox(_ sandbox: Sandbox, source: [UInt8], path: String, function: String) throws -> Sample {
        let environment = try sandbox.makeEnvironment()
        let chunk = try sandbox.load(source, chunkName: "@\(path)", in: environment)
        let arguments: [LuaValue] = [.string(LuaString(function)), .string(LuaString(String(iterations)))]
        let results = try sandbox.run(chunk, arguments: arguments)
        guard results.count == 2, case .number(let calls) = results[0], case .number(let empty) = results[1] else {
            throw BenchmarkError("call_loop.lua returned \(results)")
        }
        return Sample(calls: calls, empty: empty, iterations: iterations)
    }
}

/// The `lua_State` behind a `LuaState`, for the benchmark's own C helpers.
///
/// Automator does not hand out its `lua_State` (host code must not call raising API), and
/// this harness may not change it; reflection reads the stored property instead. If Automator
/// grows an `@_spi(Benchmarks)` accessor, use that.
enum LuaStatePointer {
    static func of(_ state: LuaState) throws -> OpaquePointer {
        for child in Mirror(reflecting: state).children where child.label == "L" {
            if let L = child.value as? OpaquePointer { return L }
        }
        throw BenchmarkError("LuaState has no stored property `L: OpaquePointer` any more: update LuaStatePointer")
    }
}
