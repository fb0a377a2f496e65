import Crypto
import Foundation
import Hummingbird

/// AWS IAM's Query API on loopback, as AWS documents it, for `scripts/integrations/aws.lua`:
/// `POST /` with a form (`Action`, `Version=2010-05-08`, the action's parameters), signed with
/// Signature Version 4 for region us-east-1 and service iam, which this checks by computing the
/// signature again (`signature`) from the request it received.
///
/// - `UpdateAccessKey` (`UserName`, `AccessKeyId`, `Status` Active or Inactive), `PutUserPolicy`
///   (`UserName`, `PolicyName`, `PolicyDocument`, JSON), `DeleteUserPolicy` (`UserName`,
///   `PolicyName`), `PutRolePolicy` (`RoleName`, `PolicyName`, `PolicyDocument`): 200
///   `<ActionResponse><ResponseMetadata><RequestId>`;
/// - errors as `<ErrorResponse><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error>`:
///   403 `InvalidClientTokenId` for an unknown access key id, 403 `SignatureDoesNotMatch` for a
///   wrong signature, 403 `AccessDenied` for an action `denied` lists, 404 `NoSuchEntity` for a user,
///   key, role or policy that is not there, 400 `Throttling` while `throttled` counts down.
///
/// Every request is in `received`; the users' keys and policies and the roles' policies in `state`.
public final class LoopbackIAM: Sendable {
    /// The integration's credentials, as AWS's documentation writes its examples.
    public static let accessKeyID = "AKIAIOSFODNN7EXAMPLE"
    public static let secretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    public static let sessionToken = "FwoGZXIvYXdzEXAMPLEsessionTOKEN/2+tokenEXAMPLE=="

    public struct State: Sendable {
        /// Access key id to its status, by user.
        public var keys: [String: [String: String]] = ["l.moreau": ["AKIAEXAMPLEMOREAU001": "Active"]]
        /// Inline policy name to its document, by user, and by role.
        public var userPolicies: [String: [String: String]] = ["l.moreau": [:]]
        public var rolePolicies: [String: [String: String]] = ["web-app-role": [:]]
        /// The actions the integration's credentials may not do (`PutUserPolicy`).
        public var denied: Set<String> = []
        /// How many requests to come are answered 400 Throttling.
        public var throttled = 0
        /// The session token a request must sign, when the credentials are temporary.
        public var sessionToken: String?
        /// The changes made, each answer's RequestId (`req-1`...).
        public var changes = 0
    }
    public let state = QueryAPIAccount(State())
    public let received = ReceivedRequests()
    private let server: LoopbackServer

    public init() async throws {
        server = try await state.serve(received, Self.answer)
    }

    public var url: String { server.url }

    /// The settings that point `aws.lua` here, with the session token when `temporary`.
    public func settings(temporary: Bool = false) -> [String: String] {
        var settings = ["endpoint": url, "access_key_id": Self.accessKeyID, "secret_access_key": Self.secretAccessKey]
        if temporary { settings["session_token"] = Self.sessionToken }
        return settings
    }

    public func stop() { server.stop() }

    /// The Signature Version 4 signature of `request` (a POST to `/` with no query, as the Query
    /// API's are) with `secret`, over the headers its Authorization names, on the date and scope it
    /// names: what AWS computes to check the request.
    public static func signature(of request: ReceivedRequests.Request, secret: String) -> String? {
        guard let authorization = request.headers["authorization"],
              let match = authorization.firstMatch(of: /^AWS4-HMAC-SHA256 Credential=[^\/]+\/(\d{8})\/([^\/]+)\/([^\/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=[0-9a-f]{64}$/),
              let stamp = request.headers["x-amz-date"]
        else { return nil }
        let (date, region, service) = (String(match.output.1), String(match.output.2), String(match.output.3))
        let signed = match.output.4.split(separator: ";").map(String.init)
        let headers = signed.map { name in
            "\(name):\((request.headers[name] ?? "").trimmingCharacters(in: .whitespaces))\n"
        }.joined()
        let canonical = ["POST", "/", "", headers, signed.joined(separator: ";"), hex(SHA256.hash(data: Data(request.body.utf8)))]
            .joined(separator: "\n")
        let scope = "\(date)/\(region)/\(service)/aws4_request"
        let toSign = ["AWS4-HMAC-SHA256", stamp, scope, hex(SHA256.hash(data: Data(canonical.utf8)))].joined(separator: "\n")
        var key = SymmetricKey(data: Data("AWS4\(secret)".utf8))
        for part in [date, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return hex(HMAC<SHA256>.authenticationCode(for: Data(toSign.utf8), using: key))
    }

    private static func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// Whether `request` is signed as AWS requires, with the integration's credentials, for `scope`
    /// (`us-east-1/iam`), and with `sessionToken` when there is one: nil when it is, else AWS's
    /// error code for it (`unknownKey` for the key id: IAM's InvalidClientTokenId, EC2's
    /// AuthFailure; `SignatureDoesNotMatch`) and its message.
    public static func refusal(of request: ReceivedRequests.Request, scope: String, sessionToken: String?,
                               unknownKey: String) -> (code: String, message: String)?
    {
        let authorization = request.headers["authorization"] ?? ""
        guard authorization.contains("Credential=\(accessKeyID)/") else {
            return (unknownKey, "The security token included in the request is invalid.")
        }
        let signed = authorization.firstMatch(of: /SignedHeaders=([a-z0-9;-]+)/).map { String($0.output.1) } ?? ""
        let given = authorization.firstMatch(of: /Signature=([0-9a-f]+)/).map { String($0.output.1) }
        guard authorization.contains("/\(scope)/aws4_request"), signed.split(separator: ";").contains("host"),
              sessionToken == nil || (signed.contains("x-amz-security-token")
                                      && request.headers["x-amz-security-token"] == sessionToken),
              let expected = signature(of: request, secret: secretAccessKey), given == expected
        else {
            return ("SignatureDoesNotMatch", "The request signature we calculated does not match the signature"
                + " you provided. Check your AWS Secret Access Key and signing method.")
        }
        return nil
    }

    private static func answer(_ request: ReceivedRequests.Request, _ state: inout State) -> Response {
        if let (code, message) = refusal(of: request, scope: "us-east-1/iam", sessionToken: state.sessionToken,
                                         unknownKey: "InvalidClientTokenId") {
            return error(.forbidden, code, message)
        }
        if state.throttled > 0 {
            state.throttled -= 1
            return error(.badRequest, "Throttling", "Rate exceeded")
        }
        let form = request.form
        let action = form["Action"] ?? ""
        guard form["Version"] == "2010-05-08" else {
            return error(.badRequest, "InvalidAction", "Could not find operation \(action) for version \(form["Version"] ?? "NO_VERSION_SPECIFIED")")
        }
        let user = form["UserName"] ?? "", role = form["RoleName"] ?? "", policy = form["PolicyName"] ?? ""
        if state.denied.contains(action) {
            let resource = role.isEmpty ? "user \(user)" : "role \(role)"
            return error(.forbidden, "AccessDenied", "User: arn:aws:iam::111122223333:user/automator is not authorized to perform:"
                + " iam:\(action) on resource: \(resource) because no identity-based policy allows the iam:\(action) action")
        }
        switch action {
        case "UpdateAccessKey":
            let key = form["AccessKeyId"] ?? ""
            guard state.keys[user]?[key] != nil else {
                return error(.notFound, "NoSuchEntity", "The Access Key with id \(key) cannot be found.")
            }
            guard let status = form["Status"], ["Active", "Inactive"].contains(status) else {
                return error(.badRequest, "ValidationError", "1 validation error detected: Value at 'status' failed to satisfy constraint")
            }
            state.keys[user]?[key] = status
        case "PutUserPolicy", "DeleteUserPolicy":
            guard state.userPolicies[user] != nil else {
                return error(.notFound, "NoSuchEntity", "The user with name \(user) cannot be found.")
            }
            if action == "DeleteUserPolicy" {
                guard state.userPolicies[user]?.removeValue(forKey: policy) != nil else {
                    return error(.notFound, "NoSuchEntity", "The user policy with name \(policy) cannot be found.")
                }
            } else {
                guard let document = form["PolicyDocument"], (try? JSONSerialization.jsonObject(with: Data(document.utf8))) != nil else {
                    return error(.badRequest, "MalformedPolicyDocument", "Syntax errors in policy.")
                }
                state.userPolicies[user]?[policy] = document
            }
        case "PutRolePolicy":
            guard state.rolePolicies[role] != nil else {
                return error(.notFound, "NoSuchEntity", "The role with name \(role) cannot be found.")
            }
            state.rolePolicies[role]?[policy] = form["PolicyDocument"]
        default:
            return error(.badRequest, "InvalidAction", "Could not find operation \(action) for version 2010-05-08")
        }
        state.changes += 1
        return xml(.ok, """
            <\(action)Response xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
              <ResponseMetadata><RequestId>req-\(state.changes)</RequestId></ResponseMetadata>
            </\(action)Response>
            """)
    }

    private static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        xml(status, """
            <ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
              <Error><Type>Sender</Type><Code>\(code)</Code><Message>\(message)</Message></Error>
              <RequestId>4d7a6b8e-1f2c-4e3d-9a0b-EXAMPLE</RequestId>
            </ErrorResponse>
            """)
    }

    private static func xml(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/xml"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
