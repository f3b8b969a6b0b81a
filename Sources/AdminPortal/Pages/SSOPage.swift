import Crypto
import Foundation
import Hummingbird

/// The small pages of single sign-on, for browsers (`Accept: text/html`); other callers
/// get the same answer in JSON. No script, nothing fetched (`default-src 'none'`; the one
/// inline stylesheet is allowed by its hash), and no Referer, so a callback's code never
/// leaves in one.
enum SSOPage {
    /// The admin page's colours and fonts, in a card that reads on a phone as on a wide screen.
    static let style = """
        body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;padding:0 1em;color:#1d2733;background:#f4f6f9}
        main{max-width:28em;margin:12vh auto;padding:1.5em 1.75em;background:#fff;border:1px solid #d9dee5;border-radius:10px}
        h1{font-size:1.35em;line-height:1.2;margin:0 0 .6em;color:#26415f}
        p{margin:0 0 1em}
        ul{padding-left:1.2em}
        a{color:#1f6feb}
        label{display:block;font-weight:600;margin-bottom:.8em}
        input{display:block;width:100%;box-sizing:border-box;font:inherit;font-weight:400;margin-top:.3em;padding:.45em .6em;border:1px solid #d9dee5;border-radius:6px}
        button{font:inherit;padding:.45em 1.1em;border-radius:6px;border:1px solid #1f6feb;background:#1f6feb;color:#fff;cursor:pointer}
        :focus-visible{outline:3px solid #ffbf47;outline-offset:2px}
        """
    /// `default-src 'none'`, and ``style`` by its SHA-256.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'sha256-\(Data(SHA256.hash(data: Data(style.utf8))).base64EncodedString())'"

    /// A field asking for an email, sent back to `action` with GET.
    struct EmailForm {
        let action: String
        let email: String?
        let returnTo: String?
    }

    static func wantsHTML(_ request: Request) -> Bool {
        request.headers[.accept]?.contains("text/html") == true
    }

    /// A page with a title, a paragraph, links, and optionally the email form; `refreshTo`
    /// sends the browser on at once.
    static func response(title: String, body: String, links: [(label: String, href: String)] = [],
                         form: EmailForm? = nil, refreshTo: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        let refresh = refreshTo.map { "<meta http-equiv=\"refresh\" content=\"0; url=\(escape($0))\">" } ?? ""
        let list = links.map { "<li><a href=\"\(escape($0.href))\">\(escape($0.label))</a></li>" }.joined()
        var formHTML = ""
        if let form {
            let returnTo = form.returnTo.map { "<input type=\"hidden\" name=\"return_to\" value=\"\(escape($0))\">" } ?? ""
            formHTML = """
                <form method="get" action="\(escape(form.action))"><label>Work email <input type="email" name="email" \
                required autocomplete="email" value="\(escape(form.email ?? ""))"></label>\(returnTo) \
                <button type="submit">Continue</button></form>
                """
        }
        let html = """
            <!doctype html><html lang="en"><head><meta charset="utf-8">\
            <meta name="viewport" content="width=device-width, initial-scale=1"><title>\(escape(title))</title>\(refresh)\
            <style>\(style)</style></head>
            <body><main><h1>\(escape(title))</h1><p>\(escape(body))</p>\(list.isEmpty ? "" : "<ul>\(list)</ul>")\(formHTML)</main></body></html>
            """
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.init("Referrer-Policy")!] = "no-referrer"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "'", with: "&#39;")
    }
}
