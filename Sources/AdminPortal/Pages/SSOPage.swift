import Hummingbird

/// The small pages of single sign-on, for browsers (`Accept: text/html`); other callers
/// get the same answer in JSON. No script, nothing fetched (`default-src 'none'`), and no
/// Referer, so a callback's code never leaves in one.
enum SSOPage {
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
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>\(refresh)</head>
            <body><h1>\(escape(title))</h1><p>\(escape(body))</p>\(list.isEmpty ? "" : "<ul>\(list)</ul>")\(formHTML)</body></html>
            """
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.contentSecurityPolicy] = "default-src 'none'"
        headers[.init("Referrer-Policy")!] = "no-referrer"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "'", with: "&#39;")
    }
}
