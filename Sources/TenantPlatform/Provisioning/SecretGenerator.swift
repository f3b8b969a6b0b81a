
/// Random secrets for generated passwords.
enum SecretGenerator {
    /// Letters and digits without look-alikes (0/O, 1/l/I), safe in URLs and conninfo strings.
    private static let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")

    /// A password of `length` characters from a cryptographic random source (about 5.8 bits each).
    static func password(length: Int = 24) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
    }
}
