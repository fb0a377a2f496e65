import AutomatorRuntime
import Hummingbird

/// `/api/v1/intel`: what the feeds and integrations say of an indicator.
struct IntelRoutes: Sendable {
    let reputation: ReputationService
    let store: any IntelStore

    func add(to group: RouterGroup<APIRequestContext>) {
        group.get("intel/reputation", use: lookup)
        group.get("intel/export", use: export)
    }

    /// `GET /api/v1/intel/export?format=stix` → a STIX 2.1 bundle of the indicators looked up.
    @Sendable func export(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard (request.uri.queryParameters.get("format") ?? "stix") == "stix" else {
            throw APIError.badRequest("the export's format is stix (STIX 2.1)")
        }
        let indicators: [SeenIndicator]
        do throws(StoreError) { indicators = try await store.seenIndicators() } catch { throw APIError.store(error) }
        return .json(STIXBundle.make(indicators))
    }

    /// `GET /api/v1/intel/reputation?value=203.0.113.7[&type=ipv4]` → the verdict with its sources.
    @Sendable func lookup(_ request: Request, context: APIRequestContext) async throws -> Response {
        let parameters = request.uri.queryParameters
        guard let value = parameters.get("value"), !value.isEmpty else {
            throw APIError.badRequest("the lookup needs ?value=, as in /api/v1/intel/reputation?value=203.0.113.7")
        }
        let indicator: (type: IndicatorType, value: String)
        if let name = parameters.get("type") {
            guard let type = IndicatorType(rawValue: name) else {
                throw APIError.badRequest("unknown type \(JSONText.string(name)): use "
                    + IndicatorType.allCases.map(\.rawValue).joined(separator: ", "))
            }
            indicator = (type, NormalForms.indicator(value)?.value ?? value)
        } else {
            guard let found = NormalForms.indicator(value) else {
                throw APIError.badRequest("\(JSONText.string(value)) is not \(ReputationService.indicators)")
            }
            indicator = found
        }
        let verdict = await reputation.reputation(of: indicator.type, indicator.value)
        return .json(IntelJSON.verdict(verdict, type: indicator.type, value: indicator.value))
    }
}
