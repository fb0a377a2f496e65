import Foundation
import TestSupport
import Testing

/// `aws.quarantine_instance` and its undo `aws.release_instance` (`scripts/integrations/aws.lua`)
/// through `automator action run` and `action undo`, against a loopback EC2: the documented calls
/// signed for the instance's region, each interface's own groups put back exactly, and what an
/// unknown instance, a missing permission or a VPC without the quarantine group tell the operator.
@Suite("AWS EC2 quarantine through automator action run: security groups swapped per interface, and put back",
       .serialized, .timeLimit(.minutes(3)))
struct AWSQuarantineActionTests {
    static let web = "i-0a1b2c3d4e5f60718"
    static let database = "i-0f9e8d7c6b5a40312"

    /// A data folder, and a configuration that points aws.lua's EC2 calls at `ec2`.
    struct Setup {
        let folder: TemporaryFolder
        let config: String

        init(_ ec2: LoopbackEC2) throws {
            folder = try TemporaryFolder()
            try FileManager.default.createDirectory(at: folder.url.appendingPathComponent("data"), withIntermediateDirectories: true)
            let settings = ec2.settings.sorted { $0.key < $1.key }.map { "\($0.key): \"\($0.value)\"" }
            config = try folder.write("automator.yml", """
                integrations:
                  aws: { \(settings.joined(separator: ", ")) }
                chat:
                  roles: { approver: [alice] }
                """)
        }

        /// `automator action` with `arguments`, as alice, on this folder and configuration.
        func action(_ arguments: [String]) async throws -> AutomatorProcess.Result {
            try await AutomatorProcess.run(["action"] + arguments + [
                "--data", folder.url.appendingPathComponent("data").path, "--scripts", PlaybookTrialTests.scripts.path,
                "--config", config,
            ], environment: ["USER": "alice"])
        }

        /// `automator action run aws.quarantine_instance` on `instance` in eu-west-1, approved.
        func quarantine(_ instance: String, _ more: [String] = ["--approve"]) async throws -> AutomatorProcess.Result {
            try await action(["run", "aws.quarantine_instance", "--param", "instance_id=\(instance)",
                              "--param", "region=\(LoopbackEC2.region)"] + more)
        }
    }

    /// The action id a run printed first.
    static func id(_ result: AutomatorProcess.Result) throws -> String {
        try #require(result.stdout.split(separator: " ").first.map(String.init), "\(result.stdout)\(result.stderr)")
    }

    @Test("One interface: its two groups swapped for the VPC's quarantine group, signed for the region; the undo puts both back")
    func oneInterface() async throws {
        let ec2 = try await LoopbackEC2()
        defer { ec2.stop() }
        let setup = try Setup(ec2)

        let quarantined = try await setup.quarantine(Self.web)
        #expect(quarantined.status == 0 && quarantined.stdout.contains("  done  aws.quarantine_instance"),
                "\(quarantined.stdout)\(quarantined.stderr)")
        #expect(ec2.groups(of: Self.web) == [["sg-0quar00005"]])
        #expect(quarantined.stdout.contains(#""interfaces":[{"groups":["sg-0web00001","sg-0ssh00002"],"id":"eni-0aa11111"}]"#),
                "the original groups are kept in the result: \(quarantined.stdout)")
        let forms = ec2.received.all.map(\.form)
        #expect(forms.map { $0["Action"] } == ["DescribeInstances", "DescribeSecurityGroups", "ModifyNetworkInterfaceAttribute"])
        #expect(forms[0] == ["Action": "DescribeInstances", "Version": "2016-11-15", "InstanceId.1": Self.web])
        #expect(forms[1]["Filter.1.Name"] == "vpc-id" && forms[1]["Filter.1.Value.1"] == "vpc-0e1f2a3b"
                && forms[1]["Filter.2.Name"] == "group-name" && forms[1]["Filter.2.Value.1"] == "automator-quarantine")
        #expect(forms[2] == ["Action": "ModifyNetworkInterfaceAttribute", "Version": "2016-11-15",
                             "NetworkInterfaceId": "eni-0aa11111", "SecurityGroupId.1": "sg-0quar00005"])
        for sent in ec2.received.all {
            #expect(sent.headers["authorization"]?.contains("/eu-west-1/ec2/aws4_request") == true)
            #expect(sent.headers["authorization"]?.hasSuffix(
                "Signature=" + (LoopbackIAM.signature(of: sent, secret: LoopbackIAM.secretAccessKey) ?? "?")) == true)
        }

        let id = try Self.id(quarantined)
        let undone = try await setup.action(["undo", id])
        #expect(undone.status == 0 && undone.stdout.hasPrefix("\(id)  undone"), "\(undone.stdout)\(undone.stderr)")
        #expect(ec2.groups(of: Self.web) == [["sg-0web00001", "sg-0ssh00002"]])
        #expect(ec2.received.last?.form == ["Action": "ModifyNetworkInterfaceAttribute", "Version": "2016-11-15",
                                            "NetworkInterfaceId": "eni-0aa11111", "SecurityGroupId.1": "sg-0web00001",
                                            "SecurityGroupId.2": "sg-0ssh00002"])
    }

    @Test("Two interfaces: each quarantined, and each given its own groups back; an interface deleted since is nothing to release")
    func twoInterfaces() async throws {
        let ec2 = try await LoopbackEC2()
        defer { ec2.stop() }
        let setup = try Setup(ec2)

        let quarantined = try await setup.quarantine(Self.database)
        #expect(quarantined.status == 0, "\(quarantined.stdout)\(quarantined.stderr)")
        #expect(ec2.groups(of: Self.database) == [["sg-0quar00005"], ["sg-0quar00005"]])
        let undone = try await setup.action(["undo", try Self.id(quarantined)])
        #expect(undone.status == 0, "\(undone.stdout)\(undone.stderr)")
        #expect(ec2.groups(of: Self.database) == [["sg-0db000003"], ["sg-0mgmt0004", "sg-0ssh00002"]])

        // Quarantined again, then its second interface deleted (the instance rebuilt by tier 2).
        let again = try await setup.quarantine(Self.database)
        _ = ec2.state.withLock { $0.instances[Self.database]?.interfaces.removeLast() }
        let released = try await setup.action(["undo", try Self.id(again)])
        #expect(released.status == 0, "\(released.stdout)\(released.stderr)")
        #expect(ec2.received.all.suffix(2).map { $0.form["NetworkInterfaceId"] } == ["eni-0bb22222", "eni-0cc33333"],
                "both asked for; EC2's InvalidNetworkInterfaceID.NotFound for the deleted one is no failure")
        #expect(ec2.groups(of: Self.database) == [["sg-0db000003"]])
    }

    @Test("Quarantined twice: the first undo gives the groups back, the second leaves them and says the instance was in quarantine")
    func quarantinedTwice() async throws {
        let ec2 = try await LoopbackEC2()
        defer { ec2.stop() }
        let setup = try Setup(ec2)
        let data = setup.folder.url.appendingPathComponent("data").path
        let created = try await AutomatorProcess.run(["incident", "create", "--data", data, "--title", "Runtime finding",
                                                      "--type", "c2_traffic", "--severity", "high"])
        #expect(created.status == 0, "\(created.stderr)")

        // Two playbooks (a C2 finding and a malware finding on the instance) each quarantine it.
        let first = try Self.id(try await setup.quarantine(Self.web, ["--approve", "--incident", "INC-1"]))
        let second = try await setup.quarantine(Self.web, ["--approve", "--incident", "INC-1"])
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        #expect(ec2.received.all.filter { $0.form["Action"] == "ModifyNetworkInterfaceAttribute" }.count == 1,
                "an interface in quarantine already is left as it is")

        // Tier 2 lifts the first; a revert of the second must not cut the instance off again.
        #expect(try await setup.action(["undo", first]).status == 0)
        #expect(ec2.groups(of: Self.web) == [["sg-0web00001", "sg-0ssh00002"]])
        let sent = ec2.received.all.count
        let undone = try await setup.action(["undo", try Self.id(second)])
        #expect(undone.status == 0, "\(undone.stdout)\(undone.stderr)")
        #expect(ec2.received.all.count == sent, "nothing sent: \(ec2.received.all.dropFirst(sent).map(\.form))")
        #expect(ec2.groups(of: Self.web) == [["sg-0web00001", "sg-0ssh00002"]])
        let journal = try await AutomatorProcess.run(["incident", "show", "INC-1", "--data", data])
        #expect(journal.stdout.contains(#""left_in_quarantine":["eni-0aa11111"]"#), "\(journal.stdout)")
    }

    @Test("An unknown instance, a missing permission, a VPC without the group: the error says what to do, nothing is changed")
    func refusals() async throws {
        let ec2 = try await LoopbackEC2()
        defer { ec2.stop() }
        let setup = try Setup(ec2)

        let unknown = try await setup.quarantine("i-0123456789abcdef0")
        #expect(unknown.status == 1 && unknown.stderr.contains("aws.quarantine_instance failed: AWS EC2, DescribeInstances:"
            + " The instance ID 'i-0123456789abcdef0' does not exist (InvalidInstanceID.NotFound): check the id, and that it"
            + " is in region eu-west-1"), "\(unknown.stderr)")

        ec2.state.withLock { $0.denied = ["ModifyNetworkInterfaceAttribute"] }
        let denied = try await setup.quarantine(Self.web)
        #expect(denied.status == 1 && denied.stderr.contains("AWS EC2, ModifyNetworkInterfaceAttribute: the integration's"
            + " credentials may not do it: give the IAM user or role of access key \(LoopbackIAM.accessKeyID) the permission"
            + " ec2:ModifyNetworkInterfaceAttribute"), "\(denied.stderr)")
        #expect(ec2.groups(of: Self.web) == [["sg-0web00001", "sg-0ssh00002"]])

        ec2.state.withLock { $0.denied = []; $0.groups.removeAll { $0.id == "sg-0quar00005" } }
        let groupless = try await setup.quarantine(Self.web)
        #expect(groupless.status == 1 && groupless.stderr.contains("AWS EC2: vpc-0e1f2a3b in eu-west-1 has no security group"
            + " automator-quarantine to quarantine instances in: create it there, with no rules (aws ec2 create-security-group"
            + " --region eu-west-1 --vpc-id vpc-0e1f2a3b"), "\(groupless.stderr)")
        #expect(ec2.groups(of: Self.web) == [["sg-0web00001", "sg-0ssh00002"]], "the group of another VPC is not used")

        let malformed = try await setup.quarantine("web-1")
        #expect(malformed.status == 1 && malformed.stderr.contains(#"AWS EC2: "web-1" is no instance id"#), "\(malformed.stderr)")
        #expect(!ec2.received.all.contains { $0.form["InstanceId.1"] == "web-1" }, "checked before anything is sent")
    }

    @Test("A dry run records the plan and sends nothing to AWS")
    func dryRun() async throws {
        let ec2 = try await LoopbackEC2()
        defer { ec2.stop() }
        let setup = try Setup(ec2)

        let planned = try await setup.quarantine(Self.web, ["--dry-run"])
        #expect(planned.status == 0 && planned.stdout.contains("  planned  aws.quarantine_instance"),
                "\(planned.stdout)\(planned.stderr)")
        #expect(ec2.received.all.isEmpty)
        #expect(ec2.groups(of: Self.web) == [["sg-0web00001", "sg-0ssh00002"]])
    }
}
