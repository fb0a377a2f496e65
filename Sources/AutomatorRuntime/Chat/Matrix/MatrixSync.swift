/// One answer of `GET /sync`: what happened in the bot's rooms since the previous batch.
struct MatrixSync: Decodable {
    var nextBatch: String
    var joined: [String: JoinedRoom]
    /// The rooms the bot is invited to, each with the events the invite shows of the room
    /// (`invite_state`: among them the `m.room.member` event that invited the bot).
    var invited: [String: [MatrixEvent]]
    var left: [String]
    /// The bot's `m.direct` account data, when it changed: its direct rooms by person.
    var direct: [String: [String]]?

    struct JoinedRoom: Decodable {
        /// State between the previous batch and the timeline's start (all of it for a room new to
        /// the batch).
        var state: [MatrixEvent]
        var timeline: [MatrixEvent]
        /// True when the timeline left out events since the previous batch (more than the filter's
        /// limit); `previousBatch` is where paging back to them starts.
        var limited: Bool
        var previousBatch: String?
        /// The events left out, oldest first, once `MatrixAdapter.fillGaps` has read them back.
        var gap: [MatrixEvent] = []
        /// The messages left out that were not read back: too many.
        var unchecked = 0

        enum CodingKeys: String, CodingKey { case state, timeline }
        private struct Events: Decodable {
            var events: [Lenient<MatrixEvent>]?
            var limited: Bool?
            var previousBatch: String?
            enum CodingKeys: String, CodingKey {
                case events, limited
                case previousBatch = "prev_batch"
            }
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            state = try container.decodeIfPresent(Events.self, forKey: .state)?.events?.compactMap(\.value) ?? []
            let events = try container.decodeIfPresent(Events.self, forKey: .timeline)
            timeline = events?.events?.compactMap(\.value) ?? []
            limited = events?.limited ?? false
            previousBatch = events?.previousBatch
        }
    }

    private enum CodingKeys: String, CodingKey {
        case rooms
        case nextBatch = "next_batch"
        case accountData = "account_data"
    }

    private struct Rooms: Decodable {
        var join: [String: JoinedRoom]?
        var invite: [String: InvitedRoom]?
        var leave: [String: Ignored]?
    }

    private struct Ignored: Decodable {}

    private struct InvitedRoom: Decodable {
        var inviteState: Events?
        enum CodingKeys: String, CodingKey { case inviteState = "invite_state" }
        struct Events: Decodable { var events: [Lenient<MatrixEvent>]? }
    }

    private struct AccountData: Decodable {
        var events: [Lenient<Direct>]?

        struct Direct: Decodable {
            var type: String
            var content: [String: [String]]
        }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        nextBatch = try container.decode(String.self, forKey: .nextBatch)
        let rooms = try container.decodeIfPresent(Rooms.self, forKey: .rooms)
        joined = rooms?.join ?? [:]
        invited = rooms?.invite?.mapValues { $0.inviteState?.events?.compactMap(\.value) ?? [] } ?? [:]
        left = rooms?.leave.map { Array($0.keys) } ?? []
        let accountData = try container.decodeIfPresent(AccountData.self, forKey: .accountData)
        direct = accountData?.events?.compactMap(\.value).last { $0.type == "m.direct" }?.content
    }

    /// The sync filter: only the events the adapter reads, and the state that names rooms and
    /// people (all members, not lazily loaded, since a direct room is told by its member count).
    static let filter = """
        {"presence":{"types":[]},"account_data":{"types":["m.direct"]},\
        "room":{"ephemeral":{"types":[]},"account_data":{"types":[]},\
        "state":{"types":["m.room.member","m.room.name","m.room.canonical_alias"],"lazy_load_members":false},\
        "timeline":{"limit":100,\(timelineTypes)}}}
        """

    /// The events of a room the adapter reads, for a page of `/messages` as for the sync's timeline.
    static let roomEventFilter = "{\(timelineTypes)}"

    private static let timelineTypes = """
        "types":["m.room.message","m.room.encrypted","m.room.member","m.room.name","m.room.canonical_alias"]
        """
}
