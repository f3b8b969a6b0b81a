import Crypto
import Foundation

/// The platform's one generator of random tokens (portal sessions, single sign-on state,
/// nonce, PKCE verifier and browser binding), and the hash under which they are stored: the
/// master database keeps a token's SHA-256, never the token.
public enum SecretToken {
    /// 32 bytes from the system's CSPRNG, base64url without padding (43 characters, safe
    /// in cookies and URLs).
    public static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return base64URL(Data((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }))
    }

    /// Base64url without padding (RFC 4648, section 5).
    public static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The SHA-256 of the token's UTF-8, as stored.
    public static func hash(_ token: String) -> Data {
        Data(SHA256.hash(data: Data(token.utf8)))
    }
}
