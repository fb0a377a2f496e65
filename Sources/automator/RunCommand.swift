import ArgumentParser
import AutomatorRuntime
import Foundation
import Logging

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a Lua script in the sandbox.",
        discussion: """
            The script sees its arguments in `arg` (arg[0] is the script's path) and as `...`. \
            `print` writes to standard output; `log.info(...)` and friends to standard error. \
            `require("name")` loads name.lua from the script's folder.

            Besides standard Lua (string, table, math, utf8, coroutine; os.time, os.clock, \
            os.date, os.difftime) a script has json (decode, encode, null, array), log (debug, \
            info, warn, error), time (now, sleep) and http (request, get, post) to the hosts \
            --allow-http names. No files, no processes, no other network.

            Exit status: 0 when the script finished, 1 when it failed or went over a limit \
            (the error, with file:line and a traceback, goes to standard error), 64 for a usage error.

            Examples:
              automator run scripts/examples/triage.lua
              automator run check.lua --timeout 5 --memory 64 -- 203.0.113.7 example.com
              automator run notify.lua --allow-http hooks.example.com
            """
    )

    @Argument(help: ArgumentHelp("The Lua script to run.", valueName: "file.lua"))
    var file: String

    @OptionGroup var limits: LimitOptions
    @OptionGroup var access: ModuleOptions

    @Flag(name: .shortAndLong, help: "Show log.debug messages too.")
    var verbose = false

    @Argument(parsing: .postTerminator, help: ArgumentHelp("Arguments for the script, after --.", valueName: "args"))
    var arguments: [String] = []

    func validate() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw ValidationError("no such script: \(file)")
        }
    }

    func run() throws {
        guard let source = FileManager.default.contents(atPath: file) else {
            throw ValidationError("cannot read \(file): check its permissions")
        }
        let logger = CommandLogging.logger(verbose: verbose)
        let folder = (file as NSString).deletingLastPathComponent
        do {
            let sandbox = try Sandbox(modules: access.modules(logger: logger), modulePaths: [folder.isEmpty ? "." : folder])
            let environment = try sandbox.makeEnvironment()
            var argTable = LuaTable(array: arguments.map { .string(LuaString($0)) })
            argTable.fields[.integer(0)] = .string(LuaString(file))
            try environment.set("arg", .table(argTable))
            let chunk = try sandbox.load(source, chunkName: "@\(file)", in: environment)
            _ = try sandbox.run(chunk, arguments: arguments.map { .string(LuaString($0)) }, limits: limits.limits)
        } catch {
            CommandLogging.report(error)
            throw ExitCode.failure
        }
    }
}
