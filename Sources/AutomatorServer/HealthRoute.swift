import AutomatorRuntime
import Foundation
import Hummingbird

/// `GET /healthz`, without a token: whether this worker can serve, and what has stopped working
/// while it does. A worker whose database is away cannot serve: 503
/// `{"status":"unavailable","reason":...}`, for the load balancer or watchdog. Otherwise 200
/// `{"status":"ok",...}`, or `"degraded"` with `store_problem` while SQLite refuses writes (a
/// full disk: reads go on, and the runs resume once it takes writes), with each chat network's connection (`chat`: connected, since when, the
/// last event, the problem while it is away), the integrations whose file does not load as it
/// is now (`integrations_failing`: the previous version of an edited file stays in use meanwhile),
/// the integrations whose lookups fail since the last that succeeded (`integrations_lookups_failing`:
/// since when, how many; not why, which the log says: this route has no token, and an error may
/// quote the service's answer), the playbooks whose file does not load (`playbooks_failing`,
/// likewise kept at their previous version),
/// the integrations' fetches whose runs fail since the last that succeeded (`fetches_failing`:
/// since when, how many; on the worker that fetches, the leader on a shared store; the cursor
/// stays where it was meanwhile), and those whose service failed, whose lookups answer `unknown` without asking it
/// (`integrations_paused`: why, since when, until when; `IntegrationPause`), while they do: as
/// `automator_integration_paused`, not once the pause ended with no lookup since, which would ask.
struct HealthRoute: Sendable {
    let store: (any LeasingStore)?
    /// SQLite's, which reads on while it refuses writes (a full disk): `"status": "degraded"`.
    let writes: (any WriteRefusingStore)?
    let chat: ChatService
    let integrations: Integrations
    let fetches: Fetches
    let incidents: IncidentService

    func add(to router: Router<APIRequestContext>) {
        router.get("healthz") { _, _ in await health() }
    }

    private func health() async -> Response {
        do { try await store?.checkAvailability() } catch {
            return Response.json(#"{"status":"unavailable","reason":\#(JSONText.string("\(error)"))}"#,
                                 status: .serviceUnavailable)
        }
        var health = JSONText.Object()
        let problem = writes?.writeProblem
        health["status"] = JSONText.string(problem == nil ? "ok" : "degraded")
        health["store_problem"] = problem.map { JSONText.string("nothing new can be kept: \($0)") }
        health["chat"] = JSONText.array(chat.connections.map { connection in
            var network = JSONText.Object()
            network["network"] = JSONText.string(connection.network)
            network["connected"] = connection.connected ? "true" : "false"
            network["since"] = JSONText.time(connection.since)
            network["last_event"] = connection.lastEvent.map(JSONText.time)
            network["problem"] = connection.problem.map(JSONText.string)
            return network.text
        })
        health["integrations_failing"] = JSONText.array(integrations.statuses.compactMap { status in
            guard let failure = status.failure else { return nil }
            var failing = JSONText.Object()
            failing["file"] = JSONText.string(status.path)
            failing["error"] = JSONText.string(failure)
            return failing.text
        })
        health["integrations_paused"] = JSONText.array(integrations.statuses.compactMap { status in
            guard status.isPaused, let pause = status.pause else { return nil }
            var paused = JSONText.Object()
            paused["integration"] = JSONText.string(status.key)
            paused["reason"] = JSONText.string(pause.reason)
            paused["since"] = JSONText.time(pause.since)
            paused["until"] = JSONText.time(pause.until)
            return paused.text
        })
        health["integrations_lookups_failing"] = JSONText.array(integrations.statuses.compactMap { status in
            status.lookupFailures.map { Self.failing(status.key, $0) }
        })
        health["fetches_failing"] = JSONText.array(fetches.statuses.compactMap { status in
            status.failures.map { Self.failing(status.name, $0) }
        })
        health["playbooks_failing"] = JSONText.array(await incidents.playbooks().problems.map { problem in
            var failing = JSONText.Object()
            failing["file"] = JSONText.string(problem.path)
            failing["line"] = problem.line.map { "\($0)" }
            failing["error"] = JSONText.string(problem.message)
            return failing.text
        })
        return Response.json(health.textWithoutNulls)
    }

    /// `{"integration", "since", "failed"}`: an integration's lookups, or its fetch, failing.
    private static func failing(_ integration: String, _ failures: LookupFailureState) -> String {
        var failing = JSONText.Object()
        failing["integration"] = JSONText.string(integration)
        failing["since"] = JSONText.time(failures.since)
        failing["failed"] = "\(failures.failed)"
        return failing.text
    }
}
