import AutomatorRuntime
import Foundation
import Hummingbird

/// `/api/v1/questions`: the questions runs wait on (`chat.ask`, the approval of an action), and
/// their answers, as a person in chat would give them: from a personal token, only if its name
/// has the question's role (`chat.roles.approver` for an approval); from the server's shared
/// token, the operator's, as from the data folder.
struct QuestionRoutes: Sendable {
    let chat: ChatService

    func add(to group: RouterGroup<APIRequestContext>) {
        group.get("questions", use: list)
        group.get("questions/{id}", use: show)
        group.post("questions/{id}/answer", use: answer)
    }

    /// `GET /api/v1/questions[?incident=INC-4]` → `{"questions": [...]}`, the open ones, oldest first.
    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let parameters = request.uri.queryParameters
        try parameters.allowOnly(["incident"])
        return .json(QuestionJSON.list(try await chat.store.openQuestions(of: try parameters.incident())))
    }

    /// `GET /api/v1/questions/{id}` → the question, answered or not (`QuestionJSON.detail`); 404 for
    /// an unknown one.
    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        guard let (question, incident) = try await chat.store.questionOnIncident(id) else {
            throw APIError.notFound(QuestionJSON.unknown(id))
        }
        return .json(QuestionJSON.detail(question, incident: incident))
    }

    /// `POST /api/v1/questions/{id}/answer` with `{"choice": "approve", "by": "alice"}` → 200
    /// `{"id", "choice"}`; 404 for an unknown question, 400 for a choice it does not take, 409
    /// when it is answered already, 403 for a personal token without the question's role. `by` names
    /// the person for the journal (`api:alice`); a personal token names its own.
    @Sendable func answer(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        let body = try await request.smallBody(example: #"{"choice": "approve", "by": "alice"}"#)
        guard let object = (try? JSONSerialization.jsonObject(with: Data(String(buffer: body).utf8))) as? [String: Any],
              let choice = object["choice"] as? String
        else { throw APIError.badRequest(#"the body must be {"choice": "approve", "by": "alice"} (one of the question's choices)"#) }
        let actor = try RequestActor.of(request, context, by: try RequestActor.by(in: object))
        let chosen: String
        do {
            chosen = try await chat.answer(id, choice: choice, by: actor, person: context.authenticated.person)
        } catch let error as ChatError where error.kind == .notAChoice {
            throw APIError.badRequest(error.description)
        } catch let error as ChatError where error.kind == .notAllowed {
            throw APIError(status: .forbidden, message: error.description)
        } catch let error as ChatError {
            throw APIError.notFound(error.description)
        } catch let error as StoreError where error.kind == .conflict {
            throw APIError(status: .conflict, message: error.description)
        }
        var answered = JSONText.Object()
        answered["id"] = JSONText.string(id)
        answered["choice"] = JSONText.string(chosen)
        return .json(answered.text)
    }
}
