extension PlatformError {
    /// `name` is not set: a `.missingSetting` error whose hint says what to set it to.
    static func missingSetting(_ name: String, hint: String) -> PlatformError {
        PlatformError(.missingSetting, "\(name) is not set", hint: hint)
    }

    /// `name` (a variable, or `file:line` of a `.env` file) cannot be used: an
    /// `.invalidSetting` error. The value is left out on purpose: it may be a key or a password.
    static func invalidSetting(_ name: String, reason: String, hint: String) -> PlatformError {
        PlatformError(.invalidSetting, "\(name) is invalid: \(reason)", hint: hint)
    }
}
