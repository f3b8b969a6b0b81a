/// Why ``CredentialCipher`` cannot open a sealed value. Neither the value nor the key is
/// ever part of the message.
extension PlatformError {
    static let malformedSecret = PlatformError(
        .malformedSecret, "cannot decrypt: not a value sealed by pgperm (expected v<version>:<base64>)",
        hint: "The stored value was not written by pgperm or was changed by hand; restore it from a backup of the master database.")

    static func unknownKeyVersion(_ version: Int, current: Int) -> PlatformError {
        PlatformError(.unknownKeyVersion,
                      "cannot decrypt: the value was sealed with key version \(version), "
                          + "but only version \(current) is configured",
                      hint: "Set TENANT_ENCRYPTION_KEY_VERSION and TENANT_ENCRYPTION_KEY to that key, "
                          + "or list it in TENANT_ENCRYPTION_OLD_KEYS.")
    }

    static func wrongKey(version: Int) -> PlatformError {
        PlatformError(.wrongEncryptionKey,
                      "cannot decrypt: TENANT_ENCRYPTION_KEY is not the key (version \(version)) "
                          + "these credentials were sealed with, or the value was altered",
                      hint: "Restore the original key.")
    }
}
