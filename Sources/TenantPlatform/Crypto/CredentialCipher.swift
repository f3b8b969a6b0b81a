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

    /// - Throws: ``PlatformError`` `.malformedSecret` if AES-GCM gives no combined form
    ///   (not with its standard 12-byte nonce).
    public func seal(_ plaintext: String, context: String) throws -> String {
        let box = try AES.GCM.seal(Data(plaintext.utf8), using: currentKey.key, authenticating: Data(context.utf8))
        guard let combined = box.combined else {
            throw PlatformError(.malformedSecret, "cannot encrypt: AES-GCM produced no combined form")
        }
        return "v\(currentKey.version):\(combined.base64EncodedString())"
    }

    /// - Throws: ``PlatformError`` `.malformedSecret` when `sealed` is not in the sealed form,
    ///   `.unknownKeyVersion` when its key version is not configured, `.wrongEncryptionKey`
    ///   when the key or `context` is not the one it was sealed with, or it was altered.
    public func open(_ sealed: String, context: String) throws -> String {
        guard sealed.hasPrefix("v"), let colon = sealed.firstIndex(of: ":"),
              let version = Int(sealed[sealed.index(after: sealed.startIndex)..<colon]),
              let combined = Data(base64Encoded: String(sealed[sealed.index(after: colon)...])) else {
            throw PlatformError.malformedSecret
        }
        guard let key = version == currentKey.version ? currentKey : previousKeys[version] else {
            throw PlatformError.unknownKeyVersion(version, current: currentKey.version)
        }
        do {
            let box = try AES.GCM.SealedBox(combined: combined)
            return String(decoding: try AES.GCM.open(box, using: key.key, authenticating: Data(context.utf8)), as: UTF8.self)
        } catch {
            throw PlatformError.wrongKey(version: version)
        }
    }
}
