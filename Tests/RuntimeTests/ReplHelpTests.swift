import AutomatorRuntime
import Foundation
import Testing

@Suite("REPL help and completion: the API's doc from the LuaLS annotations, names from the session")
struct ReplHelpTests {
    static let types = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/types/automator.lua").path

    @Test("A function's doc: its signature, its comment, parameters and results made readable")
    func function() {
        let help = ReplHelp(annotations: """
            ---Doubles a number.
            ---@param x number what to double
            ---@return number
            function calc.double(x) end
            """)
        let (text, found) = help.lookup("calc.double")
        #expect(found)
        #expect(text == "calc.double(x)\n  Doubles a number.\n  x: number what to double\n  returns number")
    }

    @Test("A table the API takes shows its fields under the parameter, and by its class name")
    func tables() {
        let help = ReplHelp(annotations: """
            ---Creates a task.
            ---@param options calc.spec
            function calc.task(options) end

            ---@class calc.spec
            ---@field title string what to do
            ---@field owner? string who does it
            """)
        #expect(help.lookup("calc.task").text == "calc.task(options)\n  Creates a task.\n  options: calc.spec\n"
            + "    title: string what to do\n    owner?: string who does it")
        #expect(help.lookup("calc.spec").text == "calc.spec\n  title: string what to do\n  owner?: string who does it")
        // `:help inc:task` named incident.task, which :help did not know: a newcomer saw no field.
        let real = ReplHelp(typesFile: Self.types)
        #expect(real.lookup("inc:task").text.contains("\n    owner?: string a person or a team"))
        #expect(real.lookup("incident.task").found)
        #expect(real.lookup("Incident").text.contains("functions: Incident:close"))
    }

    @Test("Methods are found by name whatever the variable (inc:task is Incident:task); unknown names suggest near ones")
    func lookups() {
        let help = ReplHelp(typesFile: Self.types)
        #expect(help.lookup("inc:task").text.hasPrefix("Incident:task(options)"))
        #expect(help.lookup("incidents").text.contains("functions: incidents.assign_task, incidents.complete_task, incidents.create"))
        let missing = help.lookup("reputation")
        #expect(!missing.found)
        #expect(missing.text.contains("intel.reputation"), "\(missing.text)")
        #expect(help.lookup("intel.reputaton").text == "No help for intel.reputaton: did you mean intel.reputation?")
        #expect(help.methods(of: "Incident").contains("note"))
    }

    @Test("Completion lists globals and module functions, with what earlier lines defined")
    func completions() throws {
        let session = try ReplSession(sandbox: SandboxHarness().sandbox, limits: Limits(timeout: .seconds(10)))
        _ = session.submit("suspects = { first = 1 }")
        let names = session.completions()
        for name in ["json.decode", "string.format", "suspects", "suspects.first", "print"] {
            #expect(names.contains(name), "\(name)")
        }
    }
}
