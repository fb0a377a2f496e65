/// What one run of an integration's `fetch.run` returned: its alerts, each as the JSON body of
/// `POST /api/v1/ingest/SOURCE`, the cursor to start from next time (nil keeps the one it was
/// given), and whether the service has more now (`more = true`: asked again at once).
struct FetchPage: Sendable {
    var alerts: [[UInt8]]
    var cursor: String?
    var more: Bool
}
