internal import CLua

/// One call of a Lua function as a coroutine, stepped by its host: started, suspended at
/// each host wait, resumed with the wait's answer, finished.
///
/// The memory caps and the kill switch apply while it runs; whoever steps it (a blocking loop
/// in `Sandbox.run`, the scheduler) decides how waits are performed. What it allocates is
/// charged to its own account in the state, whichever run frees it, until the run is released.
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
    /// The run's id, when a scheduler runs it (for its log lines).
    var id: RunID?
    /// Who the run acts for, for the journal: the person whose chat command it runs.
    var actor: String?
    /// The worker that executed it before this one, on a shared store (`RunRequest.movedFrom`).
    var movedFrom: String?
    /// How its script was called: an integration's `http` tells its pause only of a lookup's requests.
    var entry: RunEntry = .script
    /// The run's host calls, when it is durable: its recorded ones replay, new ones are recorded.
    var recording: RunRecording?
    /// The actions its playbook approved in its declaration (`approvals = { ... }`): they need no
    /// approver's yes. Set by the playbook driver at every start, replays included.
    var standingApprovals: Set<String> = []
    /// The run's own `math.random` generator, seeded at its first use.
    var random: LuaRandom?
    /// The idempotency key of the host call being made: the run's id and the call's number, which
    /// every replay of the run gives again, so that a receiver can tell an effect sent again after
    /// a crash (its record not yet committed) from a new one. Nil outside a durable run.
    var idempotencyKey: String? {
        guard let id, let recording else { return nil }
        return "\(id)/\(recording.nextSequence)"
    }
    /// The name, argument digest and shown name of the waiting host function the run is suspended in.
    private(set) var waitingCall: (name: String, digest: String, shown: String)?
    /// Keeps the coroutine alive between steps.
    private let reference: LuaReference
    /// The account its memory is charged to (`au_open_account`).
    private let account: UInt32
    private var pendingArguments: Int32 = 0
    private var resultCount: Int32 = 0

    /// Prepares `function` (a registry reference) to run with `arguments`; nothing runs yet.
    init(state: LuaState, function: LuaReference, arguments: [LuaValue]) throws(LuaError) {
        self.state = state
        let L = state.L
        account = au_open_account(L)
        guard account != 0 else { throw LuaError(.memory, "could not open a memory account for the run") }
        let outer = au_use_account(L, account)  // the coroutine and its arguments are the run's
        defer { _ = au_use_account(L, outer) }
        guard let thread = lua_newthread(L) else {
            au_close_account(L, account)
            throw LuaError(.memory, "could not create a coroutine")
        }
        self.thread = thread
        reference = state.reference()
        state.push(function)
        lua_xmove(L, thread, 1)
        let stack = LuaStack(L: thread)
        for argument in arguments { try stack.push(argument) }
        pendingArguments = Int32(arguments.count)
    }

    deinit { au_close_account(state.L, account) }

    /// Prepares `function` to run with the elements of `arguments`, a JSON array, as its
    /// arguments (`json.decode`'s values: `null` is `json.null`), after the `leading` ones (a
    /// chunk for the playbook driver, its name).
    convenience init(state: LuaState, function: LuaReference, leading: [Leading] = [], jsonArguments arguments: [UInt8])
        throws(LuaError)
    {
        try self.init(state: state, function: function, arguments: [])
        let outer = au_use_account(state.L, account)
        defer { _ = au_use_account(state.L, outer) }
        for argument in leading {
            switch argument {
            case .reference(let reference):
                state.push(reference)
                lua_xmove(state.L, thread, 1)
            case .string(let text): LuaStack(L: thread).push(text)
            }
        }
        pendingArguments = Int32(leading.count)
            + (try Self.pushArguments(json: arguments, on: thread, marker: state.jsonArrayMarker))
    }

    /// An argument given before the JSON ones.
    enum Leading {
        case reference(LuaReference)
        case string(String)
    }

    /// Pushes the elements of `json`, a JSON array, on `L`; returns how many. Pushes nothing
    /// if it throws.
    ///
    /// - Throws: `.conversion` saying what is wrong with the text.
    static func pushArguments(json: [UInt8], on L: OpaquePointer, marker: JSONArrayMarker) throws(LuaError) -> Int32 {
        let top = lua_gettop(L)
        let text = json + [0]  // the decoder reads up to a terminating NUL, as Lua strings have
        let failure: JSONSyntaxError? = text.withUnsafeBufferPointer { text in
            var decoder = LuaJSONDecoder(L: L, text: text.baseAddress!, count: text.count - 1, marker: marker)
            do throws(JSONSyntaxError) { try decoder.decode() } catch { return error }
            return nil
        }
        if let failure {
            lua_settop(L, top)
            let message = text.withUnsafeBufferPointer { failure.message(text: $0.baseAddress!, count: $0.count - 1) }
            throw LuaError(.conversion, "the arguments are not JSON: \(message)")
        }
        // JSON objects have string keys only: a table with a sequence, or the empty-array
        // marker, was an array.
        guard lua_type(L, -1) == LUA_TTABLE, lua_rawlen(L, -1) > 0 || marker.marks(L, -1) else {
            lua_settop(L, top)
            throw LuaError(.conversion, "the arguments must be a JSON array, as in [\"203.0.113.7\", {\"verbose\": true}]")
        }
        let count = Int64(lua_rawlen(L, -1))
        guard lua_checkstack(L, Int32(clamping: count) + 1) != 0 else {
            lua_settop(L, top)
            throw LuaError(.memory, "too many arguments")
        }
        for index in stride(from: 1, through: count, by: 1) { lua_rawgeti(L, top + 1, index) }
        lua_rotate(L, top + 1, -1)
        au_pop(L, 1)
        return Int32(count)
    }

    /// Runs until the function returns or waits. `answer` is the outcome of the wait the run
    /// is suspended in (nil for the first step).
    ///
    /// - Throws: the run's error (`LuaError`); its pending `<close>` variables are closed.
    func resume(with answer: Result<[LuaValue], HostError>? = nil) throws(LuaError) -> Step {
        let outer = au_use_account(state.L, account)  // the answer, and all the run does, are the run's
        defer { _ = au_use_account(state.L, outer) }
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
                stack.push(waitingCall.map { "\($0.shown): \(error.message)" } ?? error.message)
                count = 2
            }
        }
        state.activeRun = self
        let status = au_resume(state.L, thread, count, &resultCount)
        state.activeRun = nil
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
            waitingCall = state.pendingCall
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

    /// The results of a finished run as a JSON array, in `json.encode`'s form.
    ///
    /// - Throws: `.conversion` for a result that is not JSON data (a function...), naming it.
    func resultsJSON() throws(LuaError) -> String {
        try results { stack, first, count throws(LuaError) in
            var parts: [String] = []
            for index in stride(from: first, to: first + count, by: 1) {
                var encoder = LuaJSONEncoder(L: thread, marker: state.jsonArrayMarker, indent: 0)
                do throws(JSONEncodeError) { try encoder.encode(at: index) } catch {
                    throw LuaError(.conversion, "result \(index - first + 1) of the run is not JSON data: \(error.message)")
                }
                encoder.pushText()
                parts.append(stack.bytes(at: -1).map { String(decoding: $0, as: UTF8.self) } ?? "null")
                au_pop(thread, 1)
            }
            return "[" + parts.joined(separator: ",") + "]"
        }
    }

    /// Reads the results of a finished run in place: `first` is the index of the first one.
    func results<Result>(_ read: (_ stack: LuaStack, _ first: Int32, _ count: Int32) throws(LuaError) -> Result)
        throws(LuaError) -> Result
    {
        try read(LuaStack(L: thread), lua_gettop(thread) - resultCount + 1, resultCount)
    }
}
