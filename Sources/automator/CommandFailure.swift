/// Why a command that works on a data folder failed (`runs`, `incident`, `task`, `playbook`):
/// printed as `error: ...`, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}
