import Hummingbird
import Synchronization

/// The state of an AWS account behind a loopback Query API (`LoopbackIAM`, `LoopbackEC2`), which
/// the tests change and read, and the server that answers its one route, `POST /`, with it.
public final class QueryAPIAccount<State: Sendable>: Sendable {
    private let mutex: Mutex<State>

    init(_ state: State) { mutex = Mutex(state) }

    public func withLock<T: Sendable>(_ body: (inout State) -> T) -> T { mutex.withLock { body(&$0) } }

    /// A server whose `POST /` is recorded in `received` and answered by `answer`, the state locked.
    func serve(_ received: ReceivedRequests,
               _ answer: @escaping @Sendable (ReceivedRequests.Request, inout State) -> Response) async throws -> LoopbackServer
    {
        let router = Router()
        received.route(router, .post, "/") { request in self.withLock { answer(request, &$0) } }
        return try await LoopbackServer(router)
    }
}
