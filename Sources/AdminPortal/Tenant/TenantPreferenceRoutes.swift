import Hummingbird
import Permissions

/// `/t/{slug}/api/preferences`: the signed-in user's own preferences in this tenant (theme,
/// language, ...). Every member may read and change their own, and no one else's.
struct TenantPreferenceRoutes {
    let work: TenantWork

    /// A list of pairs rather than an object, so keys come back exactly as they were written.
    struct PreferencesView: ResponseEncodable {
        struct Entry: Encodable {
            let key: String
            let value: String
        }
        let preferences: [Entry]
    }

    struct NewValue: Decodable {
        let value: String
    }

    func register(on group: RouterGroup<PortalContext>) {
        group.get("preferences") { _, context in
            let preferences = try await work.run(context, requiring: nil) { auth, session in
                try await auth.userPreferences(user: session.user, tenant: session.tenant)
            }
            return PreferencesView(preferences: preferences.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: $0.value) })
        }
        group.put("preferences/{key}") { request, context in
            let key = try context.parameters.require("key")
            let new = try await request.decode(as: NewValue.self, context: context)
            try await work.run(context, requiring: nil) { auth, session in
                try await auth.setUserPreference(user: session.user, tenant: session.tenant, key: key, value: new.value)
            }
            return Response(status: .noContent)
        }
        group.delete("preferences/{key}") { _, context in
            let key = try context.parameters.require("key")
            try await work.run(context, requiring: nil) { auth, session in
                try await auth.deleteUserPreference(user: session.user, tenant: session.tenant, key: key)
            }
            return Response(status: .noContent)
        }
    }
}
