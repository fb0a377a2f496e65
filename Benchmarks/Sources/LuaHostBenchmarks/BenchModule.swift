import AutomatorRuntime

/// The host side of the host-call figure: `bench.identity(n)` returns the integer `n`, read
/// and pushed the way a host function returning a number should do it.
struct BenchModule: HostModule {
    let name = "bench"

    func register(in table: inout ModuleTable) {
        table.function("identity") { call in call.push(integer: try call.integer(1)) }
    }
}
