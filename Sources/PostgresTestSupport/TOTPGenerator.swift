import Crypto
import Foundation

/// An authenticator app for tests: the codes of RFC 6238 (HMAC-SHA-1, 6 digits, 30-second
/// steps), computed here independently of the schema's own implementation.
public enum TOTPGenerator {
    /// The code of `secret` (base32, as `auth.begin_totp_enrolment` gives it) at the step of
    /// `date`, moved by `steps` (-1: the previous 30 seconds).
    public static func code(secret: String, at date: Date = Date(), steps: Int = 0) -> String {
        code(key: base32Decoded(secret), step: UInt64(Int(date.timeIntervalSince1970 / 30) + steps))
    }

    /// The code of a raw key at a step (RFC 4226's HOTP).
    public static func code(key: [UInt8], step: UInt64) -> String {
        let message = withUnsafeBytes(of: step.bigEndian) { Array($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: key)))
        let offset = Int(mac[19] & 0x0f)
        let binary = (UInt32(mac[offset] & 0x7f) << 24) | (UInt32(mac[offset + 1]) << 16)
            | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        let digits = String(binary % 1_000_000)
        return String(repeating: "0", count: 6 - digits.count) + digits
    }

    /// RFC 4648 base32, without padding.
    public static func base32Decoded(_ text: String) -> [UInt8] {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var bytes: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for character in text.uppercased() {
            guard let value = alphabet.firstIndex(of: character) else { continue }
            buffer = (buffer << 5) | UInt32(value)
            bits += 5
            if bits >= 8 {
                bits -= 8
                bytes.append(UInt8((buffer >> UInt32(bits)) & 0xff))
            }
        }
        return bytes
    }
}
