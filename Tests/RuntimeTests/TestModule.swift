import AutomatorRuntime

/// A counter that scripts hold as a host object.
final class Counter {
    var value: Int64 = 0
}

/// Host functions for bridge tests: `test.echo(...)` returns its arguments after a round trip
/// through Swift values; `test.fail()` and `test.add(a, b)` exercise errors.
struct TestModule: HostModule {
    /// Remembers, weakly, the last counter a script created.
    final class Tracker: @unchecked Sendable {
        weak var lastCounter: Counter?
    }

    let name = "test"
    var tracker = Tracker()

    func register(in table: inout ModuleTable) {
        table.function("echo") { call in
            let values = try (1...max(1, call.argumentCount)).map { try call.value($0) }
            for value in values { try call.push(value) }
            return Int32(values.count)
        }
        table.function("add") { call in
            try call.push(.integer(call.integer(1) + call.integer(2)))
        }
        table.function("fail") { _ in throw HostError("it failed on purpose") }

        var counter = HostClass<Counter>("counter")
        counter.method("add") { counter, call in
            counter.value += try call.integer(2)
            return try call.push(.integer(counter.value))
        }
        let counterType = table.register(counter)
        let tracker = self.tracker
        table.function("counter") { call in
            let counter = Counter()
            tracker.lastCounter = counter
            return call.push(counter, as: counterType)
        }
    }
}
