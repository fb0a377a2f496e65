import AutomatorRuntime
import Foundation
import Hummingbird

/// `/api/v1/questions/{id}/answer`: answers a question a run waits on (`chat.ask`, the approval of
/// an action) for whoever holds the API token, as a person in chat would.
struct QuestionRoutes: Sendable {
    let chat: ChatService

    func add(to group: RouterGroup<BasicRequestContext>) {
        group.post("questions/{id}/answer", use: answer)
    }

    /// `POST /api/v1/questions/{id}/answer` with `{"choice": "approve"}` → 200 `{"id", "choice"}`;
    /// 404 for an unknown question or choice, 409 when it is answered already.
    @Sendable func answer(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        let body = try await request.body.collect(upTo: 1 << 16)
        guard let object = (try? JSONSerialization.jsonObject(with: Data(String(buffer: body).utf8))) as? [String: Any],
              let choice = object["choice"] as? String
        else { throw APIError.badRequest(#"the body must be {"choice": "approve"} (one of the question's choices)"#) }
        do {
            try await chat.answer(id, choice: choice, by: RequestActor.of(request))
        } catch let error as ChatError {
            throw APIError.notFound(error.description)
        } catch let error as StoreError where error.kind == .conflict {
            throw APIError(status: .conflict, message: error.description)
        }
        var answered = JSONText.Object()
        answered["id"] = JSONText.string(id)
        answered["choice"] = JSONText.string(choice)
        return .json(answered.text)
    }
}
