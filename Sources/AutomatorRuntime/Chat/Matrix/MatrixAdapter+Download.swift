import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

extension MatrixAdapter {
    /// Fetches a file's bytes from the media repository: authenticated media (Matrix 1.11) first,
    /// the older unauthenticated endpoint on homeservers that do not have it.
    public func download(_ file: ChatFile, limit: Int) async throws -> [UInt8] {
        guard let (server, media) = MatrixID.media(file.url) else {
            throw ChatError(.notFound, "\(file.url) is not a Matrix content URI (mxc://server/id)")
        }
        let tail = "/download/\(MatrixID.segment(server))/\(MatrixID.segment(media))"
        let authenticated = "/_matrix/client/v1/media" + tail
        var response = try await client.send(.GET, authenticated, timeout: .minutes(5), passing: [400, 404, 405])
        if !(200..<300).contains(response.status.code) {
            let refusal = (try? await response.body.collect(upTo: 64 << 10)).flatMap {
                try? JSONDecoder().decode(MatrixRefusal.self, from: Data(Array(buffer: $0)))
            }
            // An endpoint the homeserver does not know; M_NOT_FOUND is a file it does not have.
            guard refusal?.errcode == nil || refusal?.errcode == "M_UNRECOGNIZED" else {
                throw client.refused(.GET, authenticated, status: response.status, refusal)
            }
            response = try await client.send(.GET, "/_matrix/media/v3" + tail, timeout: .minutes(5))
        }
        let tooLarge = ChatError(.tooLarge, "\(file.name) is larger than \(limit) bytes")
        if let length = response.headers.first(name: "content-length").flatMap(Int.init), length > limit {
            throw tooLarge
        }
        do {
            return Array(buffer: try await response.body.collect(upTo: limit))
        } catch is NIOTooManyBytesError {
            throw tooLarge
        } catch {
            throw ChatError(.unavailable, "the download of \(file.name) from \(client.homeserver) failed: \(error)")
        }
    }
}
