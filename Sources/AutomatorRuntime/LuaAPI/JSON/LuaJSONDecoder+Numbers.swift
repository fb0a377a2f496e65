internal import CLua

extension LuaJSONDecoder {
    /// Pushes the number under `position`: a Lua integer for an integer literal that fits
    /// 64 bits, a float for everything else (a fraction, an exponent, or too many digits).
    ///
    /// Most floats in real payloads have few digits and a small exponent; those are exact
    /// as one multiplication or division of two exactly represented doubles (Clinger's fast
    /// path). The rest go through the standard library's correctly rounded conversion.
    mutating func number() throws(JSONSyntaxError) {
        let start = position
        var index = start
        let negative = text[index] == UInt8(ascii: "-")
        if negative { index += 1 }

        var mantissa: UInt64 = 0
        var significantDigits = 0
        var exponent = 0
        var exact = true
        var isInteger = true

        // Up to 19 significant digits fit a UInt64; past that, the value needs the slow path.
        func accumulate(_ byte: UInt8, inFraction: Bool) {
            guard significantDigits < 19 else {
                exact = false
                return
            }
            mantissa = mantissa &* 10 &+ UInt64(byte &- UInt8(ascii: "0"))
            if mantissa != 0 { significantDigits += 1 }
            if inFraction { exponent -= 1 }
        }

        if text[index] == UInt8(ascii: "0") {
            index += 1
            if Self.isDigit(text[index]) { throw failure(.leadingZero, at: start) }
        } else if Self.isDigit(text[index]) {
            repeat {
                accumulate(text[index], inFraction: false)
                index += 1
            } while Self.isDigit(text[index])
        } else {
            throw failure(.missingDigit(after: "'-'"), at: index)
        }

        if text[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard Self.isDigit(text[index]) else { throw failure(.missingDigit(after: "'.'"), at: index) }
            repeat {
                accumulate(text[index], inFraction: true)
                index += 1
            } while Self.isDigit(text[index])
        }

        if text[index] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            index += 1
            let negativeExponent = text[index] == UInt8(ascii: "-")
            if negativeExponent || text[index] == UInt8(ascii: "+") { index += 1 }
            guard Self.isDigit(text[index]) else { throw failure(.missingDigit(after: "the exponent"), at: index) }
            var written = 0
            repeat {
                // Past a million the value is 0 or infinite anyway; stop before overflowing.
                if written < 1_000_000 { written = written * 10 + Int(text[index] - UInt8(ascii: "0")) }
                index += 1
            } while Self.isDigit(text[index])
            exponent += negativeExponent ? -written : written
        }
        position = index

        if isInteger && exact {
            if negative, mantissa <= UInt64(Int64.max) + 1 {
                lua_pushinteger(L, Int64(bitPattern: 0 &- mantissa))
                return
            }
            if !negative, mantissa <= UInt64(Int64.max) {
                lua_pushinteger(L, Int64(mantissa))
                return
            }
        }
        if exact, mantissa <= 1 << 53, let power = Self.exactPowerOfTen(exponent.magnitude) {
            let magnitude = exponent < 0 ? Double(mantissa) / power : Double(mantissa) * power
            lua_pushnumber(L, negative ? -magnitude : magnitude)
            return
        }
        let literal = String(decoding: UnsafeBufferPointer(start: text + start, count: index - start), as: UTF8.self)
        guard let value = Double(literal), value.isFinite else { throw failure(.numberOutOfRange, at: start) }
        lua_pushnumber(L, value)
    }

    @inline(__always)
    private static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    /// 10^n when it is exactly representable as a double (n ≤ 22), else nil.
    @inline(__always)
    private static func exactPowerOfTen(_ n: UInt) -> Double? {
        switch n {
        case 0: 1e0
        case 1: 1e1
        case 2: 1e2
        case 3: 1e3
        case 4: 1e4
        case 5: 1e5
        case 6: 1e6
        case 7: 1e7
        case 8: 1e8
        case 9: 1e9
        case 10: 1e10
        case 11: 1e11
        case 12: 1e12
        case 13: 1e13
        case 14: 1e14
        case 15: 1e15
        case 16: 1e16
        case 17: 1e17
        case 18: 1e18
        case 19: 1e19
        case 20: 1e20
        case 21: 1e21
        case 22: 1e22
        default: nil
        }
    }
}
