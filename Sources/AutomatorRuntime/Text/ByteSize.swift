import Foundation

/// A size for people, in the binary units the CLI's limits and options use (`--memory` in MiB):
///
/// ```swift
/// 1.byteSize           // "1 byte"
/// 912.byteSize         // "912 bytes"
/// 14_540.byteSize      // "14 KiB"
/// 3_250_000.byteSize   // "3.1 MiB"
/// ```
///
/// One decimal under 10 of a unit, whole numbers above, as `ls -h` shows them: a backup of a small
/// store said "(0 MiB)", which reads as empty.
extension BinaryInteger {
    package var byteSize: String {
        guard self >= 1024 else { return counted("byte") }
        var value = Double(self) / 1024
        var unit = 0
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB"]
        // Moved up before rounding could show 1024 of a unit.
        while value >= 1023.5, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let shown = value < 9.95 ? String(format: "%.1f", value) : String(Int(value.rounded()))
        return shown + " " + units[unit]
    }
}
