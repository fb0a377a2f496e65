internal import CLua

/// A global a script reads or writes, where: what `automator check` compares with the globals
/// the runtime defines, to catch a typo (`incidnets.find`) or a missing `local` before a run does.
struct GlobalAccess: Hashable {
    var name: String
    var line: Int
    var isWrite: Bool

    /// The globals the chunk on top of `state`'s stack reads and writes, in every function it
    /// defines. Read from the compiled code (the stock `luac -l` view): an access to a global is
    /// an access to a constant key of the `_ENV` upvalue, which Lua's own parser has resolved,
    /// scopes and all.
    static func of(chunkOn state: LuaState) -> [GlobalAccess] {
        var bytes: [UInt8] = []
        withUnsafeMutablePointer(to: &bytes) { buffer in
            _ = lua_dump(state.L, { _, data, size, buffer in
                guard let data, let buffer else { return 1 }
                buffer.assumingMemoryBound(to: [UInt8].self).pointee
                    .append(contentsOf: UnsafeRawBufferPointer(start: data, count: size))
                return 0
            }, buffer, 0)
        }
        var reader = LuaDumpReader(bytes: bytes)
        return (try? reader.globals()) ?? []
    }
}

/// Reads a chunk as `lua_dump` writes it in Lua 5.4 (`ldump.c`): a header, then each function
/// with its code, constants, upvalues, nested functions and debug information.
private struct LuaDumpReader {
    let bytes: [UInt8]
    var at = 0

    struct Malformed: Error {}

    // Opcodes and constant tags of Lua 5.4 (lopcodes.h, lobject.h).
    private static let getTabUp: UInt32 = 11
    private static let setTabUp: UInt32 = 15
    private static let absoluteLine: Int8 = -0x80

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func globals() throws -> [GlobalAccess] {
        // Signature (4), version, format, LUAC_DATA (6), three sizes, LUAC_INT (8), LUAC_NUM (8).
        guard bytes.starts(with: [0x1B, 0x4C, 0x75, 0x61, 0x54]) else { throw Malformed() }
        at = 4 + 1 + 1 + 6 + 3 + 8 + 8
        _ = try byte()  // the main function's upvalue count
        var found: [GlobalAccess] = []
        try function(into: &found)
        return found
    }

    private mutating func function(into found: inout [GlobalAccess]) throws {
        _ = try string()  // the source
        let lineDefined = try size()
        _ = try size()  // the last line
        at += 3  // parameters, vararg, stack size
        var code: [UInt32] = []
        for _ in 0..<(try size()) { code.append(try word()) }
        // By index; nil for the constants that are not strings.
        var constants: [String?] = []
        for _ in 0..<(try size()) {
            switch try byte() {
            case 3, 19:  // an integer, a float
                at += 8
                constants.append(nil)
            case 4, 20: constants.append(try string())
            default: constants.append(nil)  // nil, false, true
            }
        }
        at += 3 * (try size())  // upvalues: in stack, index, kind
        var nested: [GlobalAccess] = []
        for _ in 0..<(try size()) { try function(into: &nested) }
        var lineDeltas: [Int8] = []
        for _ in 0..<(try size()) { lineDeltas.append(Int8(bitPattern: try byte())) }
        var absoluteLines: [Int: Int] = [:]
        for _ in 0..<(try size()) { absoluteLines[try size()] = try size() }
        for _ in 0..<(try size()) {  // locals: name, first and last instruction
            _ = try string()
            _ = try size()
            _ = try size()
        }
        var upvalueNames: [String?] = []
        for _ in 0..<(try size()) { upvalueNames.append(try string()) }

        var line = lineDefined
        for (pc, instruction) in code.enumerated() {
            if pc < lineDeltas.count {
                line = lineDeltas[pc] == Self.absoluteLine ? absoluteLines[pc] ?? line : line + Int(lineDeltas[pc])
            }
            let operation = instruction & 0x7F
            let (a, b, c) = (Int(instruction >> 7 & 0xFF), Int(instruction >> 16 & 0xFF), Int(instruction >> 24 & 0xFF))
            // GETTABUP A B C: R[A] := UpValue[B][K[C]]; SETTABUP A B C: UpValue[A][K[B]] := RK(C).
            let (upvalue, key) = operation == Self.getTabUp ? (b, c) : (a, b)
            guard operation == Self.getTabUp || operation == Self.setTabUp, upvalue < upvalueNames.count,
                  upvalueNames[upvalue] == "_ENV", key < constants.count, let name = constants[key]
            else { continue }
            found.append(GlobalAccess(name: name, line: line, isWrite: operation == Self.setTabUp))
        }
        found += nested
    }

    private mutating func byte() throws -> UInt8 {
        guard at < bytes.count else { throw Malformed() }
        defer { at += 1 }
        return bytes[at]
    }

    private mutating func word() throws -> UInt32 {
        guard at + 4 <= bytes.count else { throw Malformed() }
        defer { at += 4 }
        return UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
    }

    /// `dumpSize`: 7 bits a byte, most significant first, the last byte marked by its high bit.
    private mutating func size() throws -> Int {
        var value = 0
        while true {
            let next = try byte()
            value = value << 7 | Int(next & 0x7F)
            if next & 0x80 != 0 { return value }
        }
    }

    private mutating func string() throws -> String? {
        let length = try size()
        guard length > 0 else { return nil }
        guard at + length - 1 <= bytes.count else { throw Malformed() }
        defer { at += length - 1 }
        return String(decoding: bytes[at..<at + length - 1], as: UTF8.self)
    }
}
