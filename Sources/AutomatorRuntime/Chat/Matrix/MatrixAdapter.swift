import Foundation
public import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// The bot on Matrix, over the client-server API: it long-polls `/sync` for the rooms it is in,
/// accepts invites, and posts, reacts and shares files as its user.
///
/// ```swift
/// let matrix = MatrixAdapter(configuration: MatrixConfiguration(homeserver: "https://matrix.example.org",
///                                                               userID: "@automator:example.org",
///                                                               credential: .accessToken(token)),
///                            state: store, logger: logger)
/// try await matrix.run(delivering: bot)
/// ```
///
/// Where the sync stopped (`next_batch`) is kept in `state`, so a restart delivers nothing twice;
/// the very first start delivers only what arrives after it, not the rooms' history. Messages
/// from before the bot joined a room are not delivered either. Encrypted rooms are not read:
/// the bot has no keys (it logs a warning for each such room).
public final class MatrixAdapter: ChatAdapter {
    public let network = "matrix"
    /// Display names are anyone's to take: roles name Matrix users by their id (`names`).
    public let namesAreUnique = false
    let configuration: MatrixConfiguration
    let client: MatrixClient
    let store: any ChatStateStore
    /// Whose device a password login keeps, when the store is shared by several workers.
    let deviceOwner: String?
    let logger: Logger
    /// The longest wait between two attempts to reach a homeserver that does not answer.
    let longestRetryDelay: Duration
    /// The most events of a room read back after a stop (`fillGaps`); older messages are told
    /// in the room as not checked.
    let longestGap: Int
    /// How long the homeserver may hold a long poll with nothing to tell (`/sync`'s `timeout`).
    let pollTimeout: Duration
    let state = Mutex(State())
    public let connection: ChatConnection?

    struct State {
        var me: ChatUser?
        /// The rooms seen in a sync or read since the start, by id.
        var rooms: [String: MatrixRoom] = [:]
        /// The rooms the bot's `m.direct` account data lists.
        var direct: Set<String> = []
        /// The encrypted rooms already warned about.
        var encrypted: Set<String> = []
    }

    /// - Parameters:
    ///   - state: where the sync's position and the device of a password login are kept.
    ///   - deviceOwner: on a store shared by several workers, a name that is this worker's and
    ///     stays so across its restarts (its machine and data folder): each worker logs in as a
    ///     device of its own. A homeserver may end the other sessions of a device that logs in
    ///     again, so workers sharing one would log each other out.
    ///   - http: the clients for the homeserver's requests (through the environment's proxy); the
    ///     shared ones by default. The long poll has its own (`MatrixClient.pollingClients`), which fail
    ///     within seconds when the homeserver is gone.
    public convenience init(configuration: MatrixConfiguration, state: any ChatStateStore, deviceOwner: String? = nil,
                            http: HTTPClients = .shared,
                            logger: Logger = Logger(label: "automator.matrix") { _ in SwiftLogNoOpLogHandler() })
    {
        self.init(configuration: configuration, state: state, deviceOwner: deviceOwner, http: http,
                  logger: logger, longestRetryDelay: .seconds(30))
    }

    init(configuration: MatrixConfiguration, state: any ChatStateStore, deviceOwner: String? = nil,
         http: HTTPClients = .shared, logger: Logger, longestRetryDelay: Duration, longestGap: Int = 1000,
         pollTimeout: Duration = .seconds(30))
    {
        self.configuration = configuration
        store = state
        self.deviceOwner = deviceOwner
        self.logger = logger
        self.longestRetryDelay = longestRetryDelay
        self.longestGap = longestGap
        self.pollTimeout = pollTimeout
        connection = ChatConnection(network: network, name: "Matrix", logger: logger)
        let token = if case .accessToken(let token) = configuration.credential { token } else { String?.none }
        client = MatrixClient(homeserver: configuration.homeserver, http: http, accessToken: token, logger: logger)
    }

    public var me: ChatUser? { state.withLock { $0.me } }

    /// A full id (`@alice:example.org`), or a bare name for the user of that localpart on the
    /// bot's own server (`alice`): ids never change hands, whereas anyone may call themselves
    /// "alice", so display names never match.
    public func names(_ user: ChatUser, as member: String) -> Bool {
        member == user.id || (member == MatrixID.localpart(user.id) && user.id.hasPrefix("@")
            && MatrixID.server(user.id) == MatrixID.server(configuration.userID))
    }
    public var receivesOnOneWorker: Bool { true }

    /// The state keys: per user, so that two bots can share a store.
    var batchKey: String { "matrix.\(configuration.userID).next_batch" }
    var deviceKey: String { "matrix.\(configuration.userID).device" + (deviceOwner.map { " of " + $0 } ?? "") }

    public func run(delivering inbox: any ChatInbox) async throws {
        var failures = 0
        while true {
            do {
                try await connect()
                break
            } catch let error as ChatError where error.kind == .unavailable {
                failures += 1
                guard await wait(after: failures, error) else { return }
            }
        }
        var since = try await store.chatState(batchKey)
        failures = 0
        while !Task.isCancelled {
            var batch: MatrixSync
            do throws(ChatError) {
                // After a failure, a poll that does not wait: the homeserver back answers it at
                // once, and the bot says so then, not at the end of a long poll with nothing new.
                batch = try await sync(since: since, waiting: failures == 0)
                try await loadRooms(of: batch, initial: since == nil)
                try await acceptInvites(batch.invited)
                if let since { try await fillGaps(in: &batch, since: since) }
            } catch {
                if error.kind != .unavailable, !Task.isCancelled { throw error }
                failures += 1
                guard await wait(after: failures, error) else { return }
                continue
            }
            failures = 0
            connection?.connected()
            if !batch.invited.isEmpty || batch.joined.values.contains(where: { !$0.timeline.isEmpty }) {
                connection?.received()
            }
            await deliver(batch, initial: since == nil, to: inbox)
            since = batch.nextBatch
            do { try await store.setChatState(batchKey, to: batch.nextBatch) } catch {
                // Carrying on from memory: trying the batch again would deliver it twice.
                logger.error("cannot save where the Matrix sync stopped (a restart may deliver messages again): \(error)")
            }
        }
    }

    /// Waits before the next attempt after `failures` failures in a row: 1 s, then twice as long
    /// each time, up to `longestRetryDelay`. False if the task was cancelled.
    private func wait(after failures: Int, _ error: any Error) async -> Bool {
        guard !Task.isCancelled else { return false }
        let delay = min(Duration.seconds(1 << min(failures - 1, 10)), longestRetryDelay)
        connection?.failed(error, retryingIn: delay)
        do { try await Task.sleep(for: delay) } catch { return false }
        return true
    }

    /// One long poll: what happened since `since`, or the current state of every room at the
    /// first start (without waiting, as when not `waiting`). The homeserver answers within
    /// `pollTimeout`, empty if need be; the request gives up a third later: a homeserver gone
    /// without closing the connection (its host down, no reset) is then told as lost, where a
    /// deadline of 90 s kept it connected that long.
    private func sync(since: String?, waiting: Bool) async throws(ChatError) -> MatrixSync {
        let wait = since == nil || !waiting ? 0 : pollTimeout.nanoseconds / 1_000_000
        var query = [("filter", MatrixSync.filter), ("timeout", "\(wait)")]
        if let since { query.append(("since", since)) }
        let deadline = TimeAmount.nanoseconds(Int64((pollTimeout + pollTimeout / 3).nanoseconds))
        return try await client.call(.GET, "/_matrix/client/v3/sync", query: query, timeout: deadline, polling: true)
    }
}
