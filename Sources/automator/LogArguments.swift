public import ArgumentParser  // a conformance of a public type is public
import AutomatorRuntime
import Logging

// `serve --log-level` and `--log-format`: the parser lists the cases in the help, and names them
// when a value is none of them.
extension Logger.Level: @retroactive ExpressibleByArgument {}
extension LogFormat: ExpressibleByArgument {}
