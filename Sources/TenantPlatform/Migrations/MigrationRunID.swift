import Foundation

/// Run ids are UUIDv7: their first 48 bits are the start time in milliseconds, so the
/// latest run is simply the greatest `run_id` (`platform.tenant_migration` has no run table).
enum MigrationRunID {
    static func make(at date: Date = Date()) -> UUID {
        var bytes = UUID().uuid
        let milliseconds = UInt64(date.timeIntervalSince1970 * 1000)
        bytes.0 = UInt8(truncatingIfNeeded: milliseconds >> 40)
        bytes.1 = UInt8(truncatingIfNeeded: milliseconds >> 32)
        bytes.2 = UInt8(truncatingIfNeeded: milliseconds >> 24)
        bytes.3 = UInt8(truncatingIfNeeded: milliseconds >> 16)
        bytes.4 = UInt8(truncatingIfNeeded: milliseconds >> 8)
        bytes.5 = UInt8(truncatingIfNeeded: milliseconds)
        bytes.6 = (bytes.6 & 0x0F) | 0x70  // version 7
        bytes.8 = (bytes.8 & 0x3F) | 0x80  // RFC 4122 variant
        return UUID(uuid: bytes)
    }
}
