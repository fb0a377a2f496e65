internal import CLua

/// One call of a Lua function as a coroutine, stepped by its host: started, suspended at
/// each host wait, resumed with the wait's answer, finished.
///
/// The memory cap and the kill switch apply while it runs; whoever steps it (a blocking loop
/// in `Sandbox.run`, the scheduler) decides how waits are performed.
final class LuaRun {
    enum Step {
        /// The function returned; its results are on the coroutine's stack (`results`).
        case finished
        /// A host function waits: resume with the answer when it is over.
        case waiting(HostWait)
    }

    /// How long a killed run's `__close` handlers may run before they are stopped too.
    static let closingGrace: Duration = .milliseconds(100)

    let state: LuaState
    let thread: OpaquePointer
    /// Keeps the coroutine alive between steps.
    private let reference: LuaReference
    private var pendingArguments: Int32
    /// The waiting host function the run is suspended in, to name it in a failure.
    private var waitingFunction: String?
    private var resultCount: Int32 = 0

    /// Prepares `function` (a registry reference) to run with `arguments`; nothing runs yet.
    init(state: LuaState, function: LuaReference, arguments: [LuaValue]) throws(LuaError) {
        self.state = state
        let L = state.L
        guard let thread = lua_newthread(L) else { throw LuaError(.memory, "could not create a coroutine") }
        self.thread = thread
        reference = state.reference()
        state.push(function)
        lua_xmove(L, thread, 1)
        let stack = LuaStack(L: thread)
        for argument in arguments { try stack.push(argument) }
        pendingArguments = Int32(arguments.count)
    }

    /// Runs until the function returns or waits. `answer` is the outcome of the wait the run
    /// is suspended in (nil for the first step).
    ///
    /// - Throws: the run's error (`LuaError`); its pending `<close>` variables are closed.
    func resume(with answer: Result<[LuaValue], HostError>? = nil) throws(LuaError) -> Step {
        let stack = LuaStack(L: thread)
        var count = pendingArguments
        pendingArguments = 0
        if let answer {
            switch answer {
            case .success(let values):
                lua_pushboolean(thread, 1)
                for value in values { try stack.push(value) }
                count = Int32(values.count) + 1
            case .failure(let error):
                lua_pushboolean(thread, 0)
                stack.push(waitingFunction.map { "\($0): \(error.message)" } ?? error.message)
                count = 2
            }
        }
        let status = au_resume(state.L, thread, count, &resultCount)
        switch status {
        case LUA_OK:
            return .finished
        case LUA_YIELD:
            let wait = state.pendingWait
            state.pendingWait = nil
            if au_is_killed(state.L) != 0 {
                let error = state.error(status: status, thread: thread)
                _ = state.killSwitch.withGrace(Self.closingGrace) { au_close_run(state.L, thread) }
                throw error
            }
            guard let wait else {
                throw LuaError(.runtime, "the run yielded to the host without a host wait (a bug in the host)")
            }
            waitingFunction = state.pendingWaitName
            return .waiting(wait)
        default:
            var error = state.error(status: status, thread: thread)
            if au_is_killed(state.L) == 0 {
                // Its pending __close handlers, within its limits, as lua_pcall would have.
                au_close_run(state.L, thread)
            }
            // A run killed where it could not yield (inside table.sort...) ended with an error
            // raised from the kill hook, which leaves the coroutine with hooks off: its
            // __close handlers could not be stopped, so they are not run.
            if error.kind != .killed, let reason = au_kill_reason(state.L) {
                error = LuaError(.killed, "\(error.message) (then, closing: \(String(cString: reason)))", traceback: error.traceback)
            }
            throw error
        }
    }

    /// Reads the results of a finished run in place: `first` is the index of the first one.
    func results<Result>(_ read: (_ stack: LuaStack, _ first: Int32, _ count: Int32) throws(LuaError) -> Result)
        throws(LuaError) -> Result
    {
        try read(LuaStack(L: thread), lua_gettop(thread) - resultCount + 1, resultCount)
    }
}
