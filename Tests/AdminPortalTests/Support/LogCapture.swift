import Logging
import NIOConcurrencyHelpers

/// A logger whose every line (message and metadata, at any level) is kept for the test to
/// read: attack tests assert that nothing secret and nothing at error level was logged.
final class LogCapture: Sendable {
    struct Line: Sendable {
        let level: Logger.Level
        let text: String
    }

    private let box = NIOLockedValueBox<[Line]>([])

    var lines: [Line] { box.withLockedValue { $0 } }

    var logger: Logger {
        var logger = Logger(label: "pgperm.portal.test") { _ in Handler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func append(_ line: Line) {
        box.withLockedValue { $0.append(line) }
    }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?,
                 source: String, file: String, function: String, line: UInt) {
            let all = self.metadata.merging(extra ?? [:]) { _, new in new }
            capture.append(Line(level: level, text: "\(message) \(all)"))
        }
    }
}
