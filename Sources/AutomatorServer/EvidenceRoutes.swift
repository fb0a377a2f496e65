import AutomatorRuntime
import Foundation
import Hummingbird

/// `/api/v1/incidents/{id}/evidence` and `/api/v1/evidence/{id}`: the evidence of a case, its
/// chain of custody and its content, read as `automator evidence list` and `get` read them.
/// Open to any token, as reading an incident is; a look at a file's record is noted in its
/// custody as `viewed`, a download as `exported`, by the token's actor (`api:alice`, or
/// `cli:alice` for the CLI), as the CLI notes its own.
struct EvidenceRoutes: Sendable {
    let evidence: EvidenceService

    func add(to group: RouterGroup<APIRequestContext>) {
        group.get("incidents/{id}/evidence", use: list)
        group.get("evidence/{id}", use: show)
        group.get("evidence/{id}/content", use: content)
    }

    /// `GET /api/v1/incidents/{id}/evidence` → `{"evidence": [...]}`: the incident's files as
    /// collected, with their hashes, `custody_events` and `last_custody`.
    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let text = context.parameters.get("id"), let id = IncidentID(text) else {
            throw APIError.badRequest("the path needs an incident id such as INC-42")
        }
        do { return .json(EvidenceJSON.list(try await evidence.custodies(of: id))) } catch { throw APIError(error) }
    }

    /// `GET /api/v1/evidence/{id}` → the file's record with every custody event (`custody`),
    /// this look included.
    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        let actor = try RequestActor.of(request, context)
        do {
            let (file, custody) = try await evidence.get(context.parameters.get("id") ?? "", by: actor)
            return .json(EvidenceJSON.forAPI(file, custody: custody, all: true))
        } catch {
            throw APIError(error)
        }
    }

    /// `GET /api/v1/evidence/{id}/content` → the content, streamed a chunk at a time as the vault
    /// keeps it; its SHA-256 is checked whole and the export noted before the first byte is sent.
    @Sendable func content(_ request: Request, context: APIRequestContext) async throws -> Response {
        let actor = try RequestActor.of(request, context)
        let file: Evidence
        do { file = try await evidence.handOut(context.parameters.get("id") ?? "", to: "download through the API", by: actor) }
        catch { throw APIError(error) }
        let vault = evidence.vault
        let sha256 = file.hashes.sha256
        let headers: HTTPFields = [
            .contentType: "application/octet-stream", .contentDisposition: Self.attachment(file.name),
            // A browser shows the bytes as what they are (an attacker's HTML stays a file).
            .init("X-Content-Type-Options")!: "nosniff", .init("X-Evidence-SHA256")!: sha256,
        ]
        return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: Int(file.size)) { writer in
            try await vault.read(sha256) { data throws(EvidenceError) in
                do { try await writer.write(ByteBuffer(bytes: data)) } catch {
                    throw EvidenceError(.unavailable, "the download stopped: \(error)")
                }
            }
            try await writer.finish(nil)
        })
    }

    /// `attachment` with the evidence's name: in plain ASCII for every client (what is not
    /// letters, digits, `.`, `-` or `_` as `_`), and whole in UTF-8 (RFC 6266's `filename*`).
    static func attachment(_ name: String) -> String {
        let plain = String(name.unicodeScalars.map { safe.contains($0) ? Character($0) : "_" })
        let encoded = name.addingPercentEncoding(withAllowedCharacters: safe) ?? plain
        return #"attachment; filename="\#(plain)"; filename*=UTF-8''\#(encoded)"#
    }

    private static let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")
}

extension APIError {
    /// The status and message for what the evidence service refused.
    init(_ error: EvidenceError) {
        let status: HTTPResponse.Status = switch error.kind {
        case .invalid: .badRequest
        case .notFound: .notFound
        case .tampered: .internalServerError
        case .unavailable: .serviceUnavailable
        }
        self.init(status: status, message: error.description)
    }
}
