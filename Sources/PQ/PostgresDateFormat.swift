import Foundation

/// Reads and writes timestamps in PostgreSQL's ISO format without `DateFormatter`
/// (which is slow and locale-sensitive).
enum PostgresDateFormat {
    /// `2026-11-22 12:41:12.123456+00`: UTC, microseconds.
    static func format(_ date: Date) -> String {
        // Nearest, not down: a Date decoded from a timestamp is a binary approximation that may
        // lie a fraction of a microsecond below it, and must encode back to the same timestamp.
        // (PostgreSQL also rounds extra digits to the nearest microsecond.)
        let micros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        let seconds = Int((micros / 1_000_000).rounded(.down))
        let fraction = Int(micros) - seconds * 1_000_000
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second],
                                        from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d.%06d+00",
                      c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!, fraction)
    }

    /// Parses `YYYY-MM-DD[ HH:MM:SS[.ffffff][±HH[:MM[:SS]]]]`, `infinity` and `-infinity`.
    /// A value without an offset is taken as UTC.
    static func parse(_ text: String) -> Date? {
        if text == "infinity" { return .distantFuture }
        if text == "-infinity" { return .distantPast }
        let bytes = Array(text.utf8)
        var index = 0

        func number(_ digits: Int) -> Int? {
            guard index + digits <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<index + digits] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            index += digits
            return value
        }
        func expect(_ char: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == char else { return false }
            index += 1
            return true
        }

        guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2) else {
            return nil
        }
        var hour = 0, minute = 0, second = 0
        var fraction = 0.0
        var offset = 0
        if index < bytes.count {
            guard expect(32) || expect(84), let h = number(2), expect(58), let m = number(2),
                  expect(58), let s = number(2) else { return nil }
            (hour, minute, second) = (h, m, s)
            if expect(46) {
                var scale = 0.1
                while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                    fraction += Double(bytes[index] - 48) * scale
                    scale /= 10
                    index += 1
                }
            }
            if index < bytes.count {
                let sign: Int
                if expect(43) { sign = 1 } else if expect(45) { sign = -1 } else { return nil }
                guard let oh = number(2) else { return nil }
                var seconds = oh * 3600
                if expect(58) {
                    guard let om = number(2) else { return nil }
                    seconds += om * 60
                    if expect(58) {
                        guard let os = number(2) else { return nil }
                        seconds += os
                    }
                }
                offset = sign * seconds
            }
        }
        guard index == bytes.count else { return nil }

        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components = DateComponents(year: year, month: month, day: day,
                                        hour: hour, minute: minute, second: second)
        guard let whole = calendar.date(from: components) else { return nil }
        return whole.addingTimeInterval(fraction - TimeInterval(offset))
    }
}
