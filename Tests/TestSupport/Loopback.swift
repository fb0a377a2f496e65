import Foundation
import Hummingbird

/// What the loopback copies of products' APIs (`LoopbackFalcon`, `LoopbackOkta`) read requests
/// and write answers with.
enum Loopback {
    /// The query parameters of a request line (`GET /path?a=1`), decoded.
    static func query(_ line: String) -> [String: String] {
        let target = line.split(separator: " ").dropFirst().first.map(String.init) ?? ""
        return Dictionary((URLComponents(string: target)?.queryItems ?? []).map { ($0.name, $0.value ?? "") },
                          uniquingKeysWith: { $1 })
    }

    /// A header's name Hummingbird has no constant for.
    static func header(_ name: String) -> HTTPFields.Element.Name { .init(name)! }

    /// JSON objects given as text, which the tests write and which must parse.
    static func objects(_ texts: [String]) -> [[String: Any]] {
        texts.map { (try! JSONSerialization.jsonObject(with: Data($0.utf8))) as! [String: Any] }
    }

    static func json(_ text: String, _ status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
