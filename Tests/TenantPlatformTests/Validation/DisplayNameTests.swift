import Foundation
import TenantPlatform
import Testing

@Suite("Platform: display names of tenants and organizations")
struct DisplayNameTests {
    @Test("names are trimmed and composed (NFC), and keep inner spaces, accents and other scripts")
    func validNames() throws {
        #expect(try DisplayName.normalized("  Acme Corporation\n", of: "tenant") == "Acme Corporation")
        #expect(try DisplayName.normalized("Cafe\u{301} Noir", of: "tenant") == "Caf\u{E9} Noir")
        #expect(try DisplayName.normalized("株式会社\u{3000}例", of: "tenant") == "株式会社\u{3000}例")
        let longest = String(repeating: "a", count: DisplayName.maximumLength)
        #expect(try DisplayName.normalized(longest, of: "tenant") == longest)
    }

    @Test("blank names are refused, invisible ones included", arguments: [
        "", "   ", "\t\n", "\u{A0}", "\u{3000}", "\u{200B}", "\u{FEFF}", "\u{2060}", "\u{AD}",
    ])
    func blankNames(name: String) {
        let error = #expect(throws: PlatformError.self) { try DisplayName.normalized(name, of: "tenant") }
        #expect(error?.code == .invalidName)
    }

    @Test("zero-width, bidi-override, control and line-separator characters are refused anywhere", arguments: [
        "Ac\u{200B}me", "Acme\u{200D}Corp", "Acme\u{202E}gnp.exe", "\u{2067}Acme", "Ac\u{0}me", "Ac\tme", "Acme\u{7}",
        "Acme\u{2028}Corp",
    ])
    func invisibleCharacters(name: String) {
        let error = #expect(throws: PlatformError.self) { try DisplayName.normalized(name, of: "tenant") }
        #expect(error?.code == .invalidName)
        #expect(error?.message.contains("U+") == true, "the message names the character")
    }

    @Test("length is counted in Unicode scalars, so a character stacked with combining marks cannot hide 100,000 of them")
    func length() {
        for name in [String(repeating: "a", count: 100_000), "a" + String(repeating: "\u{301}", count: 100_000),
                     String(repeating: "a", count: DisplayName.maximumLength + 1)] {
            let error = #expect(throws: PlatformError.self) { try DisplayName.normalized(name, of: "organization") }
            #expect(error?.code == .invalidName)
            #expect(error.map { $0.message.count < 200 } == true, "the message does not echo the name")
        }
    }
}
