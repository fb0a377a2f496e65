import Foundation
import Hummingbird

/// Amazon EC2's Query API on loopback, as AWS's API reference (Version 2016-11-15) documents it,
/// for `aws.quarantine_instance` and `aws.release_instance` in `scripts/integrations/aws.lua`:
/// `POST /` with a form (`Action`, `Version`, the action's parameters), signed with Signature
/// Version 4 for `region` and service ec2, checked as `LoopbackIAM.refusal` checks IAM's.
///
/// - `DescribeInstances` (`InstanceId.1`): the instance in a reservation, its instance-level
///   groupSet and a networkInterfaceSet whose items hold their own groupSet, attachment and
///   privateIpAddressesSet (nested items, as AWS nests them);
/// - `DescribeSecurityGroups` (`Filter.N.Name` vpc-id and group-name, `Filter.N.Value.1`): the
///   groups that match, in securityGroupInfo (empty when none does);
/// - `ModifyNetworkInterfaceAttribute` (`NetworkInterfaceId`, `SecurityGroupId.N`): the interface's
///   groups replaced, `<return>true</return>`;
/// - errors as `<Response><Errors><Error><Code>…</Code><Message>…</Message></Error></Errors><RequestID>`:
///   401 `AuthFailure` for an unknown access key id, 403 `SignatureDoesNotMatch`, 403
///   `UnauthorizedOperation` for an action `denied` lists, 400 `InvalidInstanceID.NotFound`,
///   `InvalidNetworkInterfaceID.NotFound`, and `InvalidGroup.NotFound` for a group of another VPC.
///
/// Every request is in `received`; the instances and groups in `state`.
public final class LoopbackEC2: Sendable {
    public struct NetworkInterface: Sendable, Equatable {
        public var id: String
        public var groups: [String]
    }
    public struct Instance: Sendable {
        public var vpc: String
        public var interfaces: [NetworkInterface]
    }
    public struct SecurityGroup: Sendable {
        public var id, vpc, name: String
    }
    public struct State: Sendable {
        /// A web server with one interface, and a database with two (each with groups of its own).
        public var instances: [String: Instance] = [
            "i-0a1b2c3d4e5f60718": Instance(vpc: "vpc-0e1f2a3b", interfaces: [
                NetworkInterface(id: "eni-0aa11111", groups: ["sg-0web00001", "sg-0ssh00002"]),
            ]),
            "i-0f9e8d7c6b5a40312": Instance(vpc: "vpc-0e1f2a3b", interfaces: [
                NetworkInterface(id: "eni-0bb22222", groups: ["sg-0db000003"]),
                NetworkInterface(id: "eni-0cc33333", groups: ["sg-0mgmt0004", "sg-0ssh00002"]),
            ]),
        ]
        /// The quarantine group of the instances' VPC, and one of the same name in another VPC.
        public var groups = [
            SecurityGroup(id: "sg-0web00001", vpc: "vpc-0e1f2a3b", name: "web"),
            SecurityGroup(id: "sg-0ssh00002", vpc: "vpc-0e1f2a3b", name: "ssh-from-bastion"),
            SecurityGroup(id: "sg-0db000003", vpc: "vpc-0e1f2a3b", name: "postgres"),
            SecurityGroup(id: "sg-0mgmt0004", vpc: "vpc-0e1f2a3b", name: "management"),
            SecurityGroup(id: "sg-0other0009", vpc: "vpc-09999999", name: "automator-quarantine"),
            SecurityGroup(id: "sg-0quar00005", vpc: "vpc-0e1f2a3b", name: "automator-quarantine"),
        ]
        /// The actions the integration's credentials may not do (`ModifyNetworkInterfaceAttribute`).
        public var denied: Set<String> = []
        /// The requests answered, each answer's requestId (`ec2-req-1`...).
        public var answered = 0
    }
    /// The region the instances are in, which a request must be signed for.
    public static let region = "eu-west-1"
    public let state = QueryAPIAccount(State())
    public let received = ReceivedRequests()
    private let server: LoopbackServer

    public init() async throws {
        server = try await state.serve(received, Self.answer)
    }

    public var url: String { server.url }

    /// The settings that point `aws.lua`'s EC2 calls here (IAM's stay where they are).
    public var settings: [String: String] {
        ["ec2_endpoint": url, "access_key_id": LoopbackIAM.accessKeyID, "secret_access_key": LoopbackIAM.secretAccessKey]
    }

    public func stop() { server.stop() }

    /// The groups of each interface of `instance`, in order.
    public func groups(of instance: String) -> [[String]] {
        state.withLock { $0.instances[instance]?.interfaces.map(\.groups) ?? [] }
    }

    private static func answer(_ request: ReceivedRequests.Request, _ state: inout State) -> Response {
        if let (code, message) = LoopbackIAM.refusal(of: request, scope: "\(region)/ec2", sessionToken: nil,
                                                     unknownKey: "AuthFailure") {
            return error(code == "AuthFailure" ? .unauthorized : .forbidden, code, message)
        }
        let form = request.form
        let action = form["Action"] ?? ""
        guard form["Version"] == "2016-11-15" else {
            return error(.badRequest, "InvalidAction", "The action \(action) is not valid for this web service.")
        }
        if state.denied.contains(action) {
            return error(.forbidden, "UnauthorizedOperation", "You are not authorized to perform this operation. User:"
                + " arn:aws:iam::111122223333:user/automator is not authorized to perform: ec2:\(action) because no"
                + " identity-based policy allows the ec2:\(action) action. Encoded authorization failure message:"
                + " 4Ap1QyZ0EXAMPLE")
        }
        state.answered += 1
        let requestID = "ec2-req-\(state.answered)"
        switch action {
        case "DescribeInstances":
            let id = form["InstanceId.1"] ?? ""
            guard let instance = state.instances[id] else {
                return error(.badRequest, "InvalidInstanceID.NotFound", "The instance ID '\(id)' does not exist")
            }
            return xml(action, requestID, describe(id, instance))
        case "DescribeSecurityGroups":
            var filters: [String: String] = [:]
            for n in 1...9 {
                if let name = form["Filter.\(n).Name"] { filters[name] = form["Filter.\(n).Value.1"] }
            }
            let found = state.groups.filter { group in
                filters["vpc-id"].map { $0 == group.vpc } ?? true && filters["group-name"].map { $0 == group.name } ?? true
            }
            return xml(action, requestID, "<securityGroupInfo>" + found.map { group in
                """
                <item><ownerId>111122223333</ownerId><groupId>\(group.id)</groupId><groupName>\(group.name)</groupName>\
                <groupDescription>\(group.name)</groupDescription><vpcId>\(group.vpc)</vpcId><ipPermissions/>\
                <ipPermissionsEgress/></item>
                """
            }.joined() + "</securityGroupInfo>")
        case "ModifyNetworkInterfaceAttribute":
            let interface = form["NetworkInterfaceId"] ?? ""
            guard let (id, instance) = state.instances.first(where: { $0.value.interfaces.contains { $0.id == interface } }),
                  let index = instance.interfaces.firstIndex(where: { $0.id == interface })
            else {
                return error(.badRequest, "InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '\(interface)' does not exist")
            }
            let groups = (1...16).compactMap { form["SecurityGroupId.\($0)"] }
            guard !groups.isEmpty else {
                return error(.badRequest, "MissingParameter", "The request must contain the parameter groupId")
            }
            if let stranger = groups.first(where: { id in !state.groups.contains { $0.id == id && $0.vpc == instance.vpc } }) {
                return error(.badRequest, "InvalidGroup.NotFound", "The security group '\(stranger)' does not exist in VPC '\(instance.vpc)'")
            }
            state.instances[id]?.interfaces[index].groups = groups
            return xml(action, requestID, "<return>true</return>")
        default:
            return error(.badRequest, "InvalidAction", "The action \(action) is not valid for this web service.")
        }
    }

    /// A reservation holding `instance`, as DescribeInstances nests it.
    private static func describe(_ id: String, _ instance: Instance) -> String {
        let groupSet = { (groups: [String]) in
            "<groupSet>" + groups.map { "<item><groupId>\($0)</groupId><groupName>\($0)</groupName></item>" }.joined() + "</groupSet>"
        }
        let interfaces = instance.interfaces.enumerated().map { index, interface in
            """
            <item><networkInterfaceId>\(interface.id)</networkInterfaceId><subnetId>subnet-0a1b2c3d</subnetId>\
            <vpcId>\(instance.vpc)</vpcId><description/><ownerId>111122223333</ownerId><status>in-use</status>\
            <privateIpAddress>10.0.1.\(20 + index)</privateIpAddress><sourceDestCheck>true</sourceDestCheck>\
            \(groupSet(interface.groups))<attachment><attachmentId>eni-attach-0\(index)</attachmentId>\
            <deviceIndex>\(index)</deviceIndex><status>attached</status><deleteOnTermination>true</deleteOnTermination>\
            </attachment><privateIpAddressesSet><item><privateIpAddress>10.0.1.\(20 + index)</privateIpAddress>\
            <primary>true</primary></item></privateIpAddressesSet></item>
            """
        }.joined()
        return """
            <reservationSet><item><reservationId>r-0123456789abcdef0</reservationId><ownerId>111122223333</ownerId>\
            <groupSet/><instancesSet><item><instanceId>\(id)</instanceId>\
            <instanceState><code>16</code><name>running</name></instanceState>\
            <instanceType>t3.medium</instanceType><vpcId>\(instance.vpc)</vpcId>\
            \(groupSet(instance.interfaces.first?.groups ?? []))<networkInterfaceSet>\(interfaces)</networkInterfaceSet>\
            </item></instancesSet></item></reservationSet>
            """
    }

    private static func xml(_ action: String, _ requestID: String, _ body: String) -> Response {
        respond(.ok, """
            <\(action)Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
              <requestId>\(requestID)</requestId>\(body)
            </\(action)Response>
            """)
    }

    private static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        respond(status, """
            <Response><Errors><Error><Code>\(code)</Code><Message>\(message)</Message></Error></Errors>\
            <RequestID>ea966190-f9aa-478e-9ede-EXAMPLE</RequestID></Response>
            """)
    }

    private static func respond(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/xml;charset=UTF-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
