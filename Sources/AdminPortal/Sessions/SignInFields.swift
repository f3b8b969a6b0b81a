/// Limits on sign-in fields, checked before anything is stored or hashed: an oversized
/// value is a 400, never a row in the throttle's table or a slow hash.
enum SignInFields {
    /// RFC 5321's limit on an address in a path.
    static let maximumEmailLength = 254
    /// The auth schema's limit on usernames (`user_info_username_length`).
    static let maximumUsernameLength = 255
    /// Far above what bcrypt reads (72 bytes): longer is an attack, not a password.
    static let maximumPasswordBytes = 1024
    /// A second-factor code: 6 digits, or a recovery code with its dashes (23), typed with spaces.
    static let maximumCodeLength = 64

    static func check(_ name: String, _ value: String, maximumLength: Int) throws {
        guard value.count <= maximumLength else {
            throw APIError.badRequest("\(name) is longer than \(maximumLength) characters",
                                      hint: "Send the \(name) as registered.")
        }
    }

    static func checkPassword(_ password: String) throws {
        guard password.utf8.count <= maximumPasswordBytes else {
            throw APIError.badRequest("password is longer than \(maximumPasswordBytes) bytes",
                                      hint: "Send the password as set.")
        }
    }
}
