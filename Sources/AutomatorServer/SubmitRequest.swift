import AutomatorRuntime
import Foundation

/// The body of `POST /api/v1/runs`: a script by name or as text, and its arguments.
///
/// ```json
/// {"script": "triage.lua", "args": ["203.0.113.7", {"verbose": true}]}
/// {"source": "local ip = ... return ip", "args": ["203.0.113.7"]}
/// ```
struct SubmitRequest {
    enum Script {
        /// A file in the scripts folder, by its relative path.
        case file(String)
        /// Lua text.
        case source(String)
    }

    private static let fields = ["script", "source", "args"]
    /// What every refusal adds, so that the person sees a body that works.
    private static let example = #"send {"script": "triage.lua", "args": ["203.0.113.7"]} or {"source": "return 1"}"#

    var script: Script
    /// The arguments as a JSON array, as sent: `1.0` stays a float for the script.
    var arguments: String

    /// - Throws: 400 for what is not JSON, not an object, a field the API does not know, or a
    ///   field of the wrong type.
    init(body: [UInt8]) throws(APIError) {
        let parsed: Any
        do { parsed = try JSONSerialization.jsonObject(with: Data(body)) } catch {
            throw .badRequest("the body is not valid JSON (\(JSONSerialization.reason(error))): \(Self.example)")
        }
        guard let object = parsed as? [String: Any] else {
            throw .badRequest("the body must be a JSON object: \(Self.example)")
        }
        if let unknown = object.keys.sorted().first(where: { !Self.fields.contains($0) }) {
            throw .badRequest("unknown field \(JSONText.string(unknown)): a run takes \"script\" (a file in the scripts "
                + "folder) or \"source\" (Lua text), and \"args\" (a JSON array)")
        }
        switch (object["script"], object["source"]) {
        case (let name as String, nil): script = .file(name)
        case (nil, let source as String): script = .source(source)
        case (nil, nil):
            throw .badRequest("the run needs \"script\" or \"source\": \(Self.example)")
        case (.some, .some):
            throw .badRequest("send \"script\" or \"source\", not both: \(Self.example)")
        default:
            throw .badRequest("\"script\" and \"source\" are strings: \(Self.example)")
        }
        guard let args = object["args"] else {
            arguments = "[]"
            return
        }
        guard args is [Any] else {
            throw .badRequest(#"args must be a JSON array, as in "args": ["203.0.113.7", {"verbose": true}]"#)
        }
        guard let text = RawJSON.members(of: body)?["args"] else {
            throw .badRequest("send the body as UTF-8: JSON in other encodings is not taken")
        }
        arguments = text
    }
}
