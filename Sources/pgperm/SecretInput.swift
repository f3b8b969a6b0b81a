import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Secrets (admin passwords, SSO client secrets) come from standard input, never from a
/// flag: a flag's value lands in the shell history and, while the command runs, in the
/// process list any local user can read.
enum SecretInput {
    /// One line from standard input without its line break. At a terminal the prompt goes to
    /// standard error and the typing is not echoed; piped input (`--password-stdin <file`) is read as is.
    static func readLine(prompt: String) throws -> String {
        let terminal = isatty(STDIN_FILENO) == 1
        var original = termios()
        if terminal {
            FileHandle.standardError.write(Data(prompt.utf8))
            tcgetattr(STDIN_FILENO, &original)
            var silent = original
            silent.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        }
        defer {
            if terminal {
                tcsetattr(STDIN_FILENO, TCSAFLUSH, &original)
                FileHandle.standardError.write(Data("\n".utf8))
            }
        }
        guard let line = Swift.readLine(strippingNewline: true) else {
            throw ValidationError("standard input ended before a secret was read")
        }
        return line
    }
}
