internal import CLua

/// One Lua 5.4 state with the sandbox's frozen base, confined to the thread that uses it.
///
/// Not `Sendable`: other threads reach it only through its `KillSwitch`.
public final class LuaState {
    let L: OpaquePointer
    let killSwitch: KillSwitch
    /// Host functions live as long as the state: Lua holds raw pointers to them.
    private var functions: [HostFunctionBox] = []
    /// What the waiting host function that just returned AU_HOST_WAIT waits for, its name, its
    /// arguments' digest (empty unless the run is recorded) and the name its errors give.
    var pendingWait: HostWait?
    var pendingCall: (name: String, digest: String, shown: String)?
    /// Whether the waiting host function being called gets its record back (a replay): it need
    /// not check what the record holds, under settings that may have changed since.
    var replaysCall = false
    /// The run being stepped: where recorded host functions find its record.
    unowned(unsafe) var activeRun: LuaRun?

    /// Who the running script acts for, for the journal: the person a chat command runs for,
    /// the run (`playbook run-…`), or `script` outside the scheduler.
    var actor: String { activeRun?.actor ?? activeRun?.id.map { "playbook \($0)" } ?? "script" }

    public init() throws(LuaError) {
        guard let L = au_newstate(hostDispatch, hostRelease) else {
            throw LuaError(.memory, "could not create a Lua state: out of memory")
        }
        self.L = L
        self.killSwitch = KillSwitch(L)
    }

    /// Marks the tables that are JSON arrays (`json.array`), for every encoder and decoder on
    /// this state.
    private(set) lazy var jsonArrayMarker = JSONArrayMarker(in: self.L)

    deinit {
        killSwitch.invalidate()
        au_close(L)
    }

    var stack: LuaStack { LuaStack(L: L) }

    /// The cap on all this state's memory while Lua code runs, in bytes; nil for none. With one
    /// run at a time (`Sandbox`), that run's cap; on an executor, what all its runs hold together.
    public var memoryLimit: Int? {
        didSet { applyMemoryLimits() }
    }

    /// The cap on each run's own memory while Lua code runs, in bytes; nil for none: what the
    /// run allocated or grew and has not freed (see "Limits" in ARCHITECTURE.md).
    public var runMemoryLimit: Int? {
        didSet { applyMemoryLimits() }
    }

    /// What sets the caps, said when one refuses a run: `Limits.memorySetBy`.
    public var memorySetBy = "--memory sets it"

    private func applyMemoryLimits() {
        au_set_memory_limits(L, memoryLimit.map { max(0, $0) } ?? 0, runMemoryLimit.map { max(0, $0) } ?? 0)
    }

    /// Bytes allocated by this state now.
    public var memoryUsed: Int { au_memory_used(L) }

    /// Runs a full garbage collection (host objects no longer reachable are released).
    public func collectGarbage() { au_collect_garbage(L) }

    /// Pushes a Lua function that calls `box`.
    func push(_ box: HostFunctionBox) {
        functions.append(box)
        au_push_host_function(L, Unmanaged.passUnretained(box).toOpaque())
    }

    // MARK: References

    /// Pops the value on top of the stack into the registry; it lives while the reference does.
    func reference() -> LuaReference { LuaReference(state: self, id: luaL_ref(L, au_registryindex())) }

    func push(_ reference: LuaReference) { lua_rawgeti(L, au_registryindex(), Int64(reference.id)) }

    // MARK: Running

    /// Compiles `source` as text and pushes the function. `chunkName` follows Lua:
    /// `@path` for a file, `=label` for anything else.
    func load(_ source: some Collection<UInt8>, chunkName: String) throws(LuaError) {
        let bytes = Array(source)
        let status = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { text in
                luaL_loadbufferx(L, text.baseAddress, text.count, chunkName, "t")
            }
        }
        guard status == LUA_OK else {
            let message = stack.bytes(at: -1).map { LuaString(bytes: $0).description } ?? "could not load \(chunkName)"
            au_pop(L, 1)
            throw LuaError(status == LUA_ERRMEM ? .memory : .syntax, message)
        }
    }

    func error(status: Int32, thread: OpaquePointer) -> LuaError {
        guard au_push_error_report(L, thread) == LUA_OK else {
            return LuaError(.memory, "not enough memory to report an error")
        }
        defer { au_pop(L, 3) }
        let text = { (index: Int32) in self.stack.bytes(at: index).map { LuaString(bytes: $0).description } ?? "" }
        let (location, message, traceback) = (text(-3), text(-2), text(-1))
        if let reason = au_kill_reason(L) {
            return LuaError(.killed, "\(location) \(String(cString: reason))", traceback: traceback)
        }
        if status == LUA_ERRMEM {
            return LuaError(.memory, "\(location) \(memoryRefusal)", traceback: traceback)
        }
        var error = LuaError(.runtime, SandboxHint.explain(message), traceback: traceback)
        error.raised = raisedTable(on: thread)
        return error
    }

    /// The error value on top of `thread` as JSON when it is a table, read raw (no metamethod runs).
    private func raisedTable(on thread: OpaquePointer) -> String? {
        guard lua_type(thread, -1) == LUA_TTABLE else { return nil }
        let top = lua_gettop(thread)
        defer { lua_settop(thread, top) }
        var encoder = LuaJSONEncoder(L: thread, marker: jsonArrayMarker, indent: 0)
        do throws(JSONEncodeError) { try encoder.encode(at: -1) } catch { return nil }
        return encoder.text
    }

    /// Which cap refused the memory a run asked for, and what to do about it.
    private var memoryRefusal: String {
        let runCap = { (limit: Int) in "memory limit of \(Self.formatBytes(limit)) exceeded (this run's cap: \(self.memorySetBy))" }
        switch au_memory_refusal(L) {
        case AU_REFUSED_RUN:
            return runCap(runMemoryLimit ?? 0)
        case AU_REFUSED_STATE where runMemoryLimit == nil:
            return runCap(memoryLimit ?? 0)  // one run at a time: the state's cap is the run's
        case AU_REFUSED_STATE:
            let runs = au_open_accounts(L)
            return "memory limit of \(Self.formatBytes(memoryLimit ?? 0)) exceeded: the executor's memory, shared by "
                + "\(runs.counted("run")), is full (\(Limits.executorMemoryRule)); find the runs that "
                + "hold memory, or raise --memory"
        default:
            return "out of memory: the machine has none left to give"
        }
    }

    static func formatBytes(_ bytes: Int) -> String {
        bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : "\(bytes) bytes"
    }
}

/// A value kept alive in the registry of a state.
final class LuaReference {
    let state: LuaState
    let id: Int32

    init(state: LuaState, id: Int32) {
        self.state = state
        self.id = id
    }

    deinit { luaL_unref(state.L, au_registryindex(), id) }
}
