/// The byte encoding of what a host call returned, as the store keeps it, and of its arguments
/// for the digest that a replay compares.
///
/// Compact and exact: integers and floats stay distinct, strings stay bytes, and a table's
/// fields are written in the order of their encoded keys, so equal values give equal bytes.
enum RecordCoding {
    private enum Tag: UInt8 {
        case `nil` = 0, `false`, `true`, integer, number, string, table
        /// A value that cannot be recorded (a function, userdata...), by its type name: enough
        /// for a digest to notice that an argument changed type.
        case opaque
        /// An outcome: the call returned values, or failed with a message.
        case values = 0x76, error = 0x65
    }

    static func encode(_ outcome: Result<[LuaValue], HostError>) -> [UInt8] {
        var bytes: [UInt8] = []
        switch outcome {
        case .success(let values):
            bytes.append(Tag.values.rawValue)
            append(values.count, to: &bytes)
            for value in values { append(value, to: &bytes) }
        case .failure(let error):
            bytes.append(Tag.error.rawValue)
            append(Array(error.message.utf8), to: &bytes)
        }
        return bytes
    }

    /// How the record of one integer starts, as a sleep's (its deadline) is: the integer's 8
    /// bytes follow, least significant first. PostgreSQL reads a deadline so, in SQL.
    static let oneInteger: [UInt8] = [Tag.values.rawValue, 1, Tag.integer.rawValue]

    /// The deadline a sleep's record keeps, in milliseconds since 1970; nil for another record.
    static func deadline(ofSleep bytes: [UInt8]) -> Int64? {
        guard case .success(let values) = try? decode(bytes), values.count == 1, case .integer(let deadline) = values[0]
        else { return nil }
        return deadline
    }

    static func decode(_ bytes: [UInt8]) throws(RecordCodingError) -> Result<[LuaValue], HostError> {
        var reader = Reader(bytes: bytes)
        let outcome: Result<[LuaValue], HostError>
        switch try reader.tag() {
        case .values:
            outcome = .success(try (0..<reader.count()).map { _ throws(RecordCodingError) in try reader.value(depth: 0) })
        case .error:
            outcome = .failure(HostError(LuaString(bytes: try reader.string()).description))
        default:
            throw RecordCodingError()
        }
        guard reader.isAtEnd else { throw RecordCodingError() }
        return outcome
    }

    /// Encodes arguments as they are on a stack: data as values, anything else by its type.
    static func encodeArguments(_ arguments: [LuaValue?], typeNames: [String]) -> [UInt8] {
        var bytes: [UInt8] = []
        append(arguments.count, to: &bytes)
        for (argument, typeName) in zip(arguments, typeNames) {
            if let argument {
                append(argument, to: &bytes)
            } else {
                bytes.append(Tag.opaque.rawValue)
                append(Array(typeName.utf8), to: &bytes)
            }
        }
        return bytes
    }

    private static func append(_ value: LuaValue, to bytes: inout [UInt8]) {
        switch value {
        case .nil: bytes.append(Tag.nil.rawValue)
        case .boolean(let flag): bytes.append(flag ? Tag.true.rawValue : Tag.false.rawValue)
        case .integer(let integer):
            bytes.append(Tag.integer.rawValue)
            append(fixed: UInt64(bitPattern: integer), to: &bytes)
        case .number(let number):
            bytes.append(Tag.number.rawValue)
            append(fixed: number.bitPattern, to: &bytes)
        case .string(let string):
            bytes.append(Tag.string.rawValue)
            append(string.bytes, to: &bytes)
        case .table(let table):
            bytes.append(Tag.table.rawValue)
            append(table.array.count, to: &bytes)
            for element in table.array { append(element, to: &bytes) }
            let fields = table.fields.map { key, value in
                var encodedKey: [UInt8] = []
                append(key, to: &encodedKey)
                return (encodedKey, value)
            }.sorted { $0.0.lexicographicallyPrecedes($1.0) }
            append(fields.count, to: &bytes)
            for (key, value) in fields {
                bytes += key
                append(value, to: &bytes)
            }
        }
    }

    private static func append(_ raw: [UInt8], to bytes: inout [UInt8]) {
        append(raw.count, to: &bytes)
        bytes += raw
    }

    /// A count as a LEB128 variable-length integer.
    private static func append(_ count: Int, to bytes: inout [UInt8]) {
        var rest = UInt64(count)
        while rest >= 0x80 {
            bytes.append(UInt8(rest & 0x7f) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    private static func append(fixed: UInt64, to bytes: inout [UInt8]) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: fixed >> UInt64(shift))) }
    }

    private struct Reader {
        let data: [UInt8]
        var offset = 0

        init(bytes: [UInt8]) { data = bytes }

        var isAtEnd: Bool { offset == data.count }

        mutating func byte() throws(RecordCodingError) -> UInt8 {
            guard offset < data.count else { throw RecordCodingError() }
            defer { offset += 1 }
            return data[offset]
        }

        mutating func tag() throws(RecordCodingError) -> Tag {
            guard let tag = Tag(rawValue: try byte()) else { throw RecordCodingError() }
            return tag
        }

        mutating func count() throws(RecordCodingError) -> Int {
            var value: UInt64 = 0
            for shift in stride(from: UInt64(0), to: 63, by: 7) {
                let byte = try byte()
                value |= UInt64(byte & 0x7f) << shift
                if byte < 0x80 {
                    guard value <= UInt64(data.count - offset) else { throw RecordCodingError() }
                    return Int(value)
                }
            }
            throw RecordCodingError()
        }

        mutating func fixed() throws(RecordCodingError) -> UInt64 {
            var value: UInt64 = 0
            for shift in stride(from: UInt64(0), to: 64, by: 8) { value |= UInt64(try byte()) << shift }
            return value
        }

        mutating func string() throws(RecordCodingError) -> [UInt8] {
            let count = try count()
            guard count <= data.count - offset else { throw RecordCodingError() }
            defer { offset += count }
            return Array(data[offset..<offset + count])
        }

        mutating func value(depth: Int) throws(RecordCodingError) -> LuaValue {
            guard depth < 200 else { throw RecordCodingError() }
            switch try tag() {
            case .nil: return .nil
            case .false: return .boolean(false)
            case .true: return .boolean(true)
            case .integer: return .integer(Int64(bitPattern: try fixed()))
            case .number: return .number(Double(bitPattern: try fixed()))
            case .string: return .string(LuaString(bytes: try string()))
            case .table:
                var table = LuaTable()
                for _ in 0..<(try count()) { table.array.append(try value(depth: depth + 1)) }
                for _ in 0..<(try count()) {
                    let key = try value(depth: depth + 1)
                    table.fields[key] = try value(depth: depth + 1)
                }
                return .table(table)
            case .opaque, .values, .error:
                throw RecordCodingError()
            }
        }
    }
}

/// A recorded result that does not decode: the store's file was damaged or written by
/// something else.
struct RecordCodingError: Error {}
