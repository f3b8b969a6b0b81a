import Crypto
import Foundation

/// Encrypts secrets (tenant database passwords, SSO client secrets) with AES-256-GCM.
///
/// A sealed value reads `v<key version>:<base64 of nonce, ciphertext and tag>`. Each value is
/// bound to what it belongs to (`context`, e.g. the tenant's id) as authenticated data, so a
/// ciphertext copied onto another row does not decrypt.
public struct CredentialCipher: Sendable {
    /// The key new values are sealed with.
    public let currentKey: EncryptionKey
    /// Older keys, by version, still accepted for opening (key rotation).
    private let previousKeys: [Int: EncryptionKey]

    public init(key: EncryptionKey, previousKeys: [EncryptionKey] = []) {
        self.currentKey = key
        self.previousKeys = Dictionary(previousKeys.map { ($0.version, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func seal(_ plaintext: String, context: String) throws -> String {
        let box = try AES.GCM.seal(Data(plaintext.utf8), using: currentKey.key, authenticating: Data(context.utf8))
        guard let combined = box.combined else { throw CipherError.malformed("AES-GCM produced no combined form") }
        return "v\(currentKey.version):\(combined.base64EncodedString())"
    }

    public func open(_ sealed: String, context: String) throws -> String {
        guard sealed.hasPrefix("v"), let colon = sealed.firstIndex(of: ":"),
              let version = Int(sealed[sealed.index(after: sealed.startIndex)..<colon]),
              let combined = Data(base64Encoded: String(sealed[sealed.index(after: colon)...])) else {
            throw CipherError.malformed("not a value sealed by pgperm (expected v<version>:<base64>)")
        }
        guard let key = version == currentKey.version ? currentKey : previousKeys[version] else {
            throw CipherError.unknownKeyVersion(version, current: currentKey.version)
        }
        do {
            let box = try AES.GCM.SealedBox(combined: combined)
            return String(decoding: try AES.GCM.open(box, using: key.key, authenticating: Data(context.utf8)), as: UTF8.self)
        } catch {
            throw CipherError.wrongKey(version: version)
        }
    }
}

public enum CipherError: Error, Sendable, CustomStringConvertible, Equatable {
    case malformed(String)
    case unknownKeyVersion(Int, current: Int)
    case wrongKey(version: Int)

    public var description: String {
        switch self {
        case .malformed(let reason):
            "cannot decrypt: \(reason)"
        case .unknownKeyVersion(let version, let current):
            "cannot decrypt: the value was sealed with key version \(version), but only version \(current) is configured. "
                + "Set TENANT_ENCRYPTION_KEY_VERSION and TENANT_ENCRYPTION_KEY to that key, or list it in TENANT_ENCRYPTION_OLD_KEYS."
        case .wrongKey(let version):
            "cannot decrypt: TENANT_ENCRYPTION_KEY is not the key (version \(version)) these credentials were sealed with, "
                + "or the value was altered. Restore the original key."
        }
    }
}
