/// An error raised by Lua code, or by the sandbox on its behalf.
///
/// `message` reads `chunk:line: what happened`, as Lua prints it; `traceback` lists the
/// Lua frames from the innermost out.
public struct LuaError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The chunk did not compile.
        case syntax
        /// The script raised an error, or a host function it called failed.
        case runtime
        /// The run went over its memory cap.
        case memory
        /// The run was stopped: its time ran out, or someone killed it.
        case killed
        /// A value could not cross the bridge (a function, a cycle, a NaN key...).
        case conversion
        /// A durable run, replayed, made other host calls than its record holds.
        case diverged
    }

    public var kind: Kind
    public var message: String
    public var traceback: String
    /// The table the script raised (`error({ code = "quota", retry_after = 30 })`) as JSON, keys
    /// sorted; nil for any other error, or a table that is no JSON data. `message` shows it as text.
    public var raised: String?

    public init(_ kind: Kind, _ message: String, traceback: String = "") {
        self.kind = kind
        self.message = message
        self.traceback = traceback
    }

    public var description: String { traceback.isEmpty ? message : "\(message)\n\(traceback)" }
}

/// The error a host function throws to fail its Lua call. The script sees
/// `file:line: NAME: message`, or `bad argument #N to 'NAME' (message)`.
public struct HostError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// The 1-based argument at fault, if any.
    public var argument: Int32?

    public init(_ message: String) {
        self.message = message
        self.argument = nil
    }

    public static func argument(_ position: Int32, _ message: String) -> HostError {
        var error = HostError(message)
        error.argument = position
        return error
    }

    public var description: String { message }
}
