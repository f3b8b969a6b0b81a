import Foundation
import Testing

/// `--help` of every `pgperm` command, found by walking the SUBCOMMANDS sections from the top:
/// each succeeds, has an overview, and explains every argument and option it shows.
@Suite("pgperm --help: every command, complete")
struct HelpTests {
    /// One command's help, read back from swift-argument-parser's layout: section headers at
    /// column 0 (`OPTIONS:`), entries at column 2 (a label, then its help on the same line or
    /// on lines indented further). Labels are read by their form, since a label of 23
    /// characters is followed by a single space only.
    struct Help {
        let text: String
        var lines: [Substring] { text.split(separator: "\n", omittingEmptySubsequences: false) }

        var overview: String {
            lines.first { $0.hasPrefix("OVERVIEW:") }.map { $0.dropFirst("OVERVIEW:".count).trimmingCharacters(in: .whitespaces) } ?? ""
        }

        /// `-v, --verbose`, `--name <name>`, `--flag/--no-flag`, `<slug>`, `<files> ...`, or a subcommand name.
        static var entry: Regex<(Substring, Substring, Substring)> {
            /^  ((?:-[A-Za-z0-9], )?--?[A-Za-z0-9][A-Za-z0-9-]*(?:\/--[A-Za-z0-9-]+)?(?: <[^>]+>)?(?: \.\.\.)?|<[^>]+>(?: \.\.\.)?|[a-z][a-z0-9-]*)(.*)$/
        }

        /// The entries of the sections whose header ends with `suffix`, each with its help text.
        func entries(inSectionsEndingWith suffix: String) -> [(name: String, help: String)] {
            var entries: [(name: String, help: String)] = []
            var inSection = false, continuing = false
            for line in lines {
                if let first = line.first, first != " " {
                    inSection = line.hasSuffix(suffix)
                    continuing = false
                } else if inSection, line.hasPrefix("   "), continuing {
                    entries[entries.count - 1].help += line.trimmingCharacters(in: .whitespaces)
                } else if inSection, let match = line.wholeMatch(of: Self.entry) {
                    entries.append((String(match.1), match.2.trimmingCharacters(in: .whitespaces)))
                    continuing = true
                } else {
                    continuing = false
                }
            }
            return entries
        }

        /// Subcommand names (the closing "See 'pgperm help ...'" line is not one).
        var subcommands: [String] { entries(inSectionsEndingWith: "SUBCOMMANDS:").map(\.name) }

        /// Arguments and options, from every OPTIONS and ARGUMENTS section.
        var parameters: [(name: String, help: String)] {
            entries(inSectionsEndingWith: "OPTIONS:") + entries(inSectionsEndingWith: "ARGUMENTS:")
        }
    }

    @Test("reading the layout: entries with help beside, below or missing; subcommands without the See line")
    func layout() {
        let help = Help(text: """
            OVERVIEW: Do it.

            ARGUMENTS:
              <slug>

            OPTIONS:
              --name <name>           The name.
              --client-id <client-id> Twenty-three characters, one space.
              --very-long-option <very-long-option>
                                      Explained on the next line,
                                      and the one after.
              --bare
              -h, --help              Show help information.

            SUBCOMMANDS:
              create                  Make one.
              a-very-long-subcommand-name
                                      Below.

              See 'pgperm help x <subcommand>' for detailed help.
            """)
        #expect(help.overview == "Do it.")
        #expect(help.subcommands == ["create", "a-very-long-subcommand-name"])
        #expect(help.parameters.map(\.name) == ["--name <name>", "--client-id <client-id>", "--very-long-option <very-long-option>", "--bare", "-h, --help", "<slug>"])
        #expect(help.parameters.filter { $0.help.isEmpty }.map(\.name) == ["--bare", "<slug>"])
    }

    @Test("every command and subcommand: --help exits 0, with an overview and help for each argument and option",
          .enabled(if: TenantCommandTests.binary != nil, "needs the pgperm binary (swift build)"))
    func everyCommand() async throws {
        let binary = try #require(TenantCommandTests.binary)
        let directory = FileManager.default.temporaryDirectory.appending(path: "pgperm-help-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        var pending: [[String]] = [[]]
        var visited: [String] = []
        while let command = pending.popLast() {
            let name = (["pgperm"] + command).joined(separator: " ")
            visited.append(name)
            let run = try await ReadmeTests.run(binary, command + ["--help"], in: directory)
            #expect(run.status == 0, "\(name) --help: exit status \(run.status)\n\(run.output)")
            let help = Help(text: run.output)
            #expect(!help.overview.isEmpty, "\(name) has no abstract")
            for parameter in help.parameters where parameter.help.isEmpty {
                Issue.record("\(name): \(parameter.name) has no help text")
            }
            pending += help.subcommands.map { command + [$0] }
        }
        // The walk reached the nested commands (a broken layout reading would stop at the top).
        #expect(visited.contains("pgperm org sso set"), "\(visited)")
        #expect(visited.count > 30, "\(visited)")
    }
}
