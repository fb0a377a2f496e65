import BenchSupport

extension ServeProcess {
    /// Where requests to a worker go.
    struct Target: Sendable {
        var url: String
        var token: String
    }

    var target: Target { Target(url: url, token: token) }
}

struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
