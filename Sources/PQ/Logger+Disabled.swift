import Logging

extension Logger {
    /// A logger that drops everything: the default for library types whose caller passes
    /// none, so a library never writes to the application's output uninvited.
    public static let disabled = Logger(label: "pgperm.disabled", factory: { _ in SwiftLogNoOpLogHandler() })
}
