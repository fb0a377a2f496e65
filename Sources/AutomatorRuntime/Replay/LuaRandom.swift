/// Lua 5.4's generator (xoshiro256**), one per run instead of one per state: runs interleave
/// on an executor, so a shared generator would make each run's numbers depend on the others,
/// and a replay could not give a run the same numbers again. Seeded as Lua seeds it, so a
/// script that calls `math.randomseed(n)` gets the numbers stock Lua gives.
struct LuaRandom {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    init(seed first: UInt64, _ second: UInt64) {
        state = (first, 0xff, second, 0)
        for _ in 0..<16 { _ = next() }  // spreads the seed, as Lua does
    }

    mutating func next() -> UInt64 {
        let result = rotate(state.1 &* 5, 7) &* 9
        let shifted = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= shifted
        state.3 = rotate(state.3, 45)
        return result
    }

    /// A float in [0, 1) from the top 53 bits.
    static func float(_ random: UInt64) -> Double { Double(random >> 11) * 0x1p-53 }

    /// `random` projected into [0, n], by rejection (no modulo bias), drawing again as needed.
    mutating func project(_ random: UInt64, into n: UInt64) -> UInt64 {
        if n & (n &+ 1) == 0 { return random & n }
        var limit = n
        for shift in [1, 2, 4, 8, 16, 32] as [UInt64] { limit |= limit >> shift }
        var value = random & limit
        while value > n { value = next() & limit }
        return value
    }

    private func rotate(_ value: UInt64, _ count: UInt64) -> UInt64 { (value << count) | (value >> (64 - count)) }
}
