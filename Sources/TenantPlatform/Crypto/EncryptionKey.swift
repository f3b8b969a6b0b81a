import Crypto
import Foundation

/// The AES-256 key that encrypts tenant credentials: 64 hexadecimal characters, from
/// `TENANT_ENCRYPTION_KEY`, with a version number recorded in every ciphertext so keys
/// can rotate.
public struct EncryptionKey: Sendable {
    /// The raw bytes: `SymmetricKey` itself is not `Sendable`.
    private let bytes: [UInt8]
    public let version: Int

    var key: SymmetricKey { SymmetricKey(data: bytes) }

    static let howToGenerate = """
        Generate one with: openssl rand -hex 32 \
        (or python3 -c "import secrets; print(secrets.token_hex(32))"), and keep it: \
        credentials encrypted with a lost key cannot be recovered.
        """

    /// Parses a 64-character hex key.
    ///
    /// - Throws: ``PlatformError`` `.invalidSetting` saying how to generate a key when `hex` is
    ///   not exactly 64 hexadecimal characters.
    public init(hex: String, version: Int = 1, name: String = "TENANT_ENCRYPTION_KEY") throws {
        let hex = hex.trimmingCharacters(in: .whitespacesAndNewlines)
        guard hex.count == 64, let bytes = Self.bytes(fromHex: hex) else {
            throw PlatformError.invalidSetting(
                name, reason: "expected 64 hexadecimal characters (32 bytes), got \(hex.count) characters",
                hint: Self.howToGenerate)
        }
        guard version >= 1 else {
            throw PlatformError.invalidSetting("TENANT_ENCRYPTION_KEY_VERSION", reason: "must be 1 or more",
                                               hint: "Start at 1; raise it when you rotate the key.")
        }
        self.bytes = bytes
        self.version = version
    }

    /// A new random key, as hex (for `pgperm` to suggest, and for tests).
    public static func generateHex() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { $0.map { String(format: "%02x", $0) }.joined() }
    }

    private static func bytes(fromHex hex: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.count / 2)
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}
