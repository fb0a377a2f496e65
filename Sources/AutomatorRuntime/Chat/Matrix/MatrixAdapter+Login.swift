import Foundation
import NIOHTTP1
import Synchronization

extension MatrixAdapter {
    /// Logs in with the password, or checks the access token; then knows `me` and the bot's
    /// direct rooms.
    public func connect() async throws {
        let userID: String
        switch configuration.credential {
        case .accessToken:
            let answer: WhoAmI = try await client.call(.GET, "/_matrix/client/v3/account/whoami")
            guard answer.userID == configuration.userID else {
                throw ChatError(.unauthorized, "the Matrix access token is \(answer.userID)'s, not "
                    + "\(configuration.userID)'s: configure the bot's own token, or its user id")
            }
            userID = answer.userID
        case .password(let password):
            userID = try await logIn(password: password)
        }
        let direct = try await directRooms(of: userID)
        let name = try await user(userID)?.name ?? MatrixID.localpart(userID)
        state.withLock {
            $0.me = ChatUser(id: userID, name: name)
            $0.direct = direct
        }
        connection?.connected(as: "\(userID) on \(configuration.homeserver)")
    }

    /// The rooms the user's `m.direct` account data lists; none when it has none.
    private func directRooms(of userID: String) async throws(ChatError) -> Set<String> {
        do throws(ChatError) {
            let direct: [String: Lenient<[String]>] = try await client.call(
                .GET, "/_matrix/client/v3/user/\(MatrixID.segment(userID))/account_data/m.direct")
            return Set(direct.values.compactMap(\.value).joined())
        } catch where error.kind == .notFound {
            return []
        }
    }

    /// Logs in with `m.login.password` and keeps the token. The device of the first login is
    /// kept in the store and given again at the next, so that restarts do not pile up devices.
    private func logIn(password: String) async throws -> String {
        let request = LoginRequest(identifier: .init(user: configuration.userID), password: password,
                                   deviceID: try await store.chatState(deviceKey),
                                   deviceName: configuration.deviceName)
        let answer: LoginAnswer
        do throws(ChatError) {
            answer = try await client.call(.POST, "/_matrix/client/v3/login", body: request, anonymous: true)
        } catch {
            guard error.kind == .unavailable else {
                // M_FORBIDDEN (403): the password or the user is wrong.
                throw ChatError(.unauthorized, "the Matrix homeserver \(configuration.homeserver) refused the "
                    + "password of \(configuration.userID): check both")
            }
            throw error
        }
        client.use(accessToken: answer.accessToken)
        if let device = answer.deviceID { try await store.setChatState(deviceKey, to: device) }
        return answer.userID
    }
}

private struct WhoAmI: Decodable {
    var userID: String
    enum CodingKeys: String, CodingKey { case userID = "user_id" }
}

private struct LoginRequest: Encodable {
    let type = "m.login.password"
    var identifier: Identifier
    var password: String
    var deviceID: String?
    var deviceName: String

    struct Identifier: Encodable {
        let type = "m.id.user"
        var user: String
    }

    enum CodingKeys: String, CodingKey {
        case type, identifier, password
        case deviceID = "device_id"
        case deviceName = "initial_device_display_name"
    }
}

private struct LoginAnswer: Decodable {
    var userID: String
    var accessToken: String
    var deviceID: String?
    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case accessToken = "access_token"
        case deviceID = "device_id"
    }
}
