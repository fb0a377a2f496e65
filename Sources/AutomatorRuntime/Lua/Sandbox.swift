internal import CLua
import Dispatch

/// Runs Lua scripts sandboxed by construction (see docs/ARCHITECTURE.md, "The sandbox"):
/// each run has its own `_ENV` over a frozen base that holds only safe functions and the
/// host modules, and every run is held to a memory cap and a wall-clock limit.
///
/// ```swift
/// let sandbox = try Sandbox(modules: StandardModules.all(logger: logger))
/// let environment = try sandbox.makeEnvironment()
/// let chunk = try sandbox.load(Array("return 1 + 1".utf8), chunkName: "=example", in: environment)
/// let results = try sandbox.run(chunk, limits: Limits(timeout: .seconds(5)))  // [.integer(2)]
/// ```
public final class Sandbox {
    public let state: LuaState
    /// Performs the host waits of the run in progress, one run at a time.
    private let waiter = BlockingWaiter()
    private var random: LuaRandom?
    /// Functions the modules' Lua parts keep for the host, by `module.name`.
    private var hostFunctions: [String: LuaReference] = [:]
    /// Who the runs act for, in the journal (`cli:alice` in an investigation REPL); "script" if nil.
    public var actor: String?

    /// - Parameters:
    ///   - modules: host modules every run sees as globals (and through `require`).
    ///   - modulePaths: folders where `require("a.b")` finds `a/b.lua`.
    public init(modules: [any HostModule] = [], modulePaths: [String] = []) throws(LuaError) {
        state = try LuaState()
        for path in modulePaths {
            guard au_add_module_path(state.L, path) == LUA_OK else {
                au_pop(state.L, 1)
                throw LuaError(.memory, "could not add the module folder \(path)")
            }
        }
        installHostSources()
        for module in modules { install(module) }
        for module in modules { if let lua = module.lua { try installLua(lua, of: module.name) } }
    }

    /// The clock and randomness come from the host, per run, so that a durable run records
    /// them and a replay gets the same values again.
    private func installHostSources() {
        let L = state.L
        state.push(HostFunctionBox(name: "time.now", recorded: { _ in [TimeModule.now()] }, state: state))
        au_use_clock(L)
        au_push_base(L)
        RandomFunctions.install(in: state)
        au_pop(L, 1)
    }

    private func install(_ module: any HostModule) {
        let L = state.L
        au_push_base(L)
        state.stack.push(module.name)
        lua_createtable(L, 0, 8)
        var table = ModuleTable(state: state, moduleName: module.name)
        module.register(in: &table)
        lua_rawset(L, -3)
        au_pop(L, 1)
    }

    /// Runs a module's Lua part (`HostModule.lua`) in the base.
    private func installLua(_ source: String, of module: String) throws(LuaError) {
        let L = state.L
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        try state.load(Array(source.utf8), chunkName: "\(AU_HOST_CHUNK) \(module)")
        au_push_base(L)
        if lua_setupvalue(L, -2, 1) == nil { au_pop(L, 1) }
        au_push_base(L)
        state.stack.push(module)
        lua_rawget(L, -2)
        lua_rotate(L, -2, 1)
        au_pop(L, 1)  // the base
        guard lua_pcallk(L, 1, 2, 0, 0, nil) == LUA_OK else {
            let message = state.stack.bytes(at: -1).map { String(decoding: $0, as: UTF8.self) } ?? "?"
            throw LuaError(.runtime, "the Lua part of the \(module) module failed: \(message)")
        }
        au_push_base(L)
        state.stack.push(module)
        lua_pushvalue(L, -4)
        lua_rawset(L, -3)
        au_pop(L, 1)
        guard lua_type(L, -1) == LUA_TTABLE else { return }
        lua_pushnil(L)
        while lua_next(L, -2) != 0 {
            if lua_type(L, -2) == LUA_TSTRING, let name = state.stack.bytes(at: -2) {
                lua_pushvalue(L, -1)
                hostFunctions["\(module).\(String(decoding: name, as: UTF8.self))"] = state.reference()
            }
            au_pop(L, 1)
        }
    }

    /// A function a module's Lua part keeps for the host (the playbook driver, say).
    func hostFunction(_ name: String, of module: String) -> LuaReference? { hostFunctions["\(module).\(name)"] }

    /// A new, empty run environment.
    public func makeEnvironment() throws(LuaError) -> Environment {
        guard au_new_environment(state.L) == LUA_OK else {
            au_pop(state.L, 1)
            throw LuaError(.memory, "not enough memory for a run environment")
        }
        return Environment(reference: state.reference())
    }

    /// Compiles `source` (text only) with `environment` as its `_ENV`.
    /// `chunkName` is `@path` for a file (errors then read `path:line:`), `=label` otherwise.
    public func load(_ source: some Collection<UInt8>, chunkName: String, in environment: Environment)
        throws(LuaError) -> Chunk
    {
        try state.load(source, chunkName: chunkName)
        state.push(environment.reference)
        if lua_setupvalue(state.L, -2, 1) == nil { au_pop(state.L, 1) }
        return Chunk(reference: state.reference())
    }

    /// Compiles `source` once for many runs: each `load(_:in:)` of the template is a new closure
    /// of one shared compiled prototype, so a run costs neither a compilation nor a copy of the
    /// code. Its tracebacks name the script's top level `function <chunk:1>`, not `main chunk`.
    public func compile(_ source: some Collection<UInt8>, chunkName: String) throws(LuaError) -> ChunkTemplate {
        let bytes = Array(source)
        let status = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { text in
                au_load_template(state.L, text.baseAddress, text.count, chunkName)
            }
        }
        guard status == LUA_OK else {
            au_pop(state.L, 1)
            // The message as the script alone gives it: the template's own wrapping would show.
            try state.load(bytes, chunkName: chunkName)
            au_pop(state.L, 1)
            throw LuaError(.syntax, "\(chunkName): the script compiles alone but not as a template")
        }
        return ChunkTemplate(reference: state.reference())
    }

    /// A new closure of `template` with `environment` as its `_ENV`.
    public func load(_ template: ChunkTemplate, in environment: Environment) throws(LuaError) -> Chunk {
        state.push(template.reference)
        state.push(environment.reference)
        guard au_instantiate(state.L) == LUA_OK else {
            au_pop(state.L, 1)
            throw LuaError(.memory, "not enough memory to start a run")
        }
        return Chunk(reference: state.reference())
    }

    /// Runs `chunk` to completion within `limits` and returns what it returned.
    ///
    /// - Throws: `LuaError` of kind `.runtime` for a script error, `.memory` or `.killed`
    ///   when a limit stopped it, `.conversion` when a result is not data (a function...).
    ///   The sandbox is ready for the next run either way.
    public func run(_ chunk: Chunk, arguments: [LuaValue] = [], limits: Limits = Limits()) throws(LuaError)
        -> [LuaValue]
    {
        try run(chunk, arguments: arguments, limits: limits) { stack, first, count throws(LuaError) in
            try (first..<first + count).map { index throws(LuaError) in try stack.value(at: index) }
        }
    }

    /// Runs `chunk` like `run`, and describes each result for a person (`LuaDisplay`):
    /// tables in full, functions and userdata by type and address. No Lua code runs for it.
    public func evaluate(_ chunk: Chunk, limits: Limits = Limits()) throws(LuaError) -> [String] {
        try run(chunk, arguments: [], limits: limits) { stack, first, count in
            (first..<first + count).map { LuaDisplay.describe(stack, at: $0) }
        }
    }

    private func run<Result>(
        _ chunk: Chunk, arguments: [LuaValue], limits: Limits,
        results: (LuaStack, Int32, Int32) throws(LuaError) -> Result
    ) throws(LuaError) -> Result {
        try call(limits: limits, results: results) { () throws(LuaError) in
            try LuaRun(state: state, function: chunk.reference, arguments: arguments)
        }
    }

    /// Calls `function` (a chunk, or a function a script returned) with `leading` arguments and
    /// the elements of the JSON array `arguments`, within `limits`, and reads its results in place.
    func call<Result>(
        _ function: LuaReference, leading: [LuaRun.Leading] = [], jsonArguments arguments: [UInt8] = Array("[]".utf8),
        limits: Limits, results: (LuaStack, Int32, Int32) throws(LuaError) -> Result
    ) throws(LuaError) -> Result {
        try call(limits: limits, results: results) { () throws(LuaError) in
            try LuaRun(state: state, function: function, leading: leading, jsonArguments: arguments)
        }
    }

    private func call<Result>(
        limits: Limits, results: (LuaStack, Int32, Int32) throws(LuaError) -> Result,
        makeRun: () throws(LuaError) -> LuaRun
    ) throws(LuaError) -> Result {
        state.memoryLimit = limits.memory
        state.memorySetBy = limits.memorySetBy
        waiter.reset()
        let ticket = state.killSwitch.begin()
        let timer = limits.timeout.map { timeout in
            Self.armTimer(after: timeout, killHandle: killHandle, ticket: ticket)
        }
        defer {
            timer?.cancel()
            state.killSwitch.end()
        }
        let run = try makeRun()
        run.actor = actor
        // One generator across the runs of a sandbox: a REPL's `math.randomseed(42)` holds for
        // its next lines.
        run.random = random
        defer { random = run.random }
        var answer: Swift.Result<[LuaValue], HostError>?
        while case .waiting(let wait) = try run.resume(with: answer) {
            answer = waiter.perform(wait)
        }
        return try run.results(results)
    }

    /// Stops the run in progress, from any thread.
    public func kill(reason: String) { killHandle.kill(reason: reason) }

    /// What stops the run in progress from another thread (a Ctrl-C handler, a timer).
    public var killHandle: KillHandle { KillHandle(killSwitch: state.killSwitch, waiter: waiter) }

    private static func armTimer(after timeout: Duration, killHandle: KillHandle, ticket: UInt64)
        -> any DispatchSourceTimer
    {
        let timer = DispatchSource.makeTimerSource(queue: .global(qos: .userInitiated))
        timer.schedule(deadline: .now() + .nanoseconds(timeout.nanoseconds), leeway: .milliseconds(5))
        let reason = "timeout: the run exceeded its limit of \(timeout.formatted)"
        timer.setEventHandler { killHandle.kill(ticket: ticket, reason: reason) }
        timer.resume()
        return timer
    }
}

/// Stops a sandbox's run in progress from any thread: at its next instruction if it computes,
/// at once if it waits on the host (a sleep, a lookup). Does nothing while no run is going.
public struct KillHandle: Sendable {
    let killSwitch: KillSwitch
    let waiter: BlockingWaiter

    public func kill(reason: String) { kill(ticket: nil, reason: reason) }

    func kill(ticket: UInt64?, reason: String) {
        if killSwitch.kill(ticket: ticket, reason: reason) { waiter.interrupt() }
    }
}

/// The limits one run is held to.
public struct Limits: Sendable {
    /// Bytes of Lua memory each run may hold; nil for no cap.
    public var memory: Int?
    /// Wall-clock time; nil for none.
    public var timeout: Duration?

    /// What sets `memory`, for the person whose run it refused.
    public var memorySetBy: String

    public init(memory: Int? = 256 << 20, timeout: Duration? = .seconds(30), memorySetBy: String = "--memory sets it") {
        self.memory = memory
        self.timeout = timeout
        self.memorySetBy = memorySetBy
    }

    /// What all the runs of one executor may hold together: four runs at their cap, and at least
    /// 1 GiB, which holds 100,000 waiting runs. A backstop, so that thousands of runs, each
    /// within its cap, cannot take the machine; nil when runs have no cap.
    public var executorMemory: Int? { memory.map { max(1 << 30, min($0, .max / 4) * 4) } }

    /// `executorMemory` for the person whose run it refused.
    static let executorMemoryRule = "4 times --memory, at least 1 GiB"
}

/// A run's `_ENV`: its globals, over the sandbox's frozen base.
public struct Environment {
    let reference: LuaReference

    /// Sets a global of this environment.
    public func set(_ name: String, _ value: LuaValue) throws(LuaError) {
        let state = reference.state
        state.push(reference)
        state.stack.push(name)
        try state.stack.push(value)
        lua_rawset(state.L, -3)
        au_pop(state.L, 1)
    }
}

/// A compiled chunk bound to one environment.
public struct Chunk {
    let reference: LuaReference
}

/// A script compiled once, to be bound to the environment of each of its runs (`Sandbox.load`).
public struct ChunkTemplate {
    let reference: LuaReference
}

extension Duration {
    /// `1.5s`, `30s`, `250ms`: how a limit reads in a message.
    var formatted: String {
        let milliseconds = components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000)s" : "\(Double(milliseconds) / 1000)s"
    }
}
