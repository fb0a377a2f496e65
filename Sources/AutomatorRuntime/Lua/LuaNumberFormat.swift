import Foundation

/// Formats floats as Lua's `tostring` does (`%.14g`, and a `.0` on integral values).
enum LuaNumberFormat {
    static func string(_ number: Double) -> String {
        if number.isNaN { return number.sign == .minus ? "-nan" : "nan" }
        if number.isInfinite { return number < 0 ? "-inf" : "inf" }
        let text = String(format: "%.14g", number)
        return text.contains(where: { $0 == "." || $0 == "e" || $0 == "n" || $0 == "i" }) ? text : text + ".0"
    }
}
