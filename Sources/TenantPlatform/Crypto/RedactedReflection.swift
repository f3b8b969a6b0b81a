/// Values that hold secrets (sealed or in clear) show every other field when printed,
/// interpolated (`"\(record)"`), dumped or logged, and `<redacted>` in place of the secret:
/// an error message or a log line that includes such a value must never carry it.
/// Interpolation and `String(describing:)` use the custom mirror, as `dump` does.
private let redacted = "<redacted>"

extension TenantRecord: CustomReflectable {
    public var customMirror: Mirror {
        Mirror(self, children: [
            "id": id, "name": name, "slug": slug, "status": status, "databaseName": databaseName, "roleName": roleName,
            "credentialsEncrypted": redacted, "adminEmail": adminEmail, "adminPasswordEncrypted": redacted,
            "keyVersion": keyVersion, "schemaVersion": schemaVersion as Any, "organizationID": organizationID as Any,
            "provisioningStep": provisioningStep as Any, "lastError": lastError as Any, "createdAt": createdAt as Any,
        ], displayStyle: .struct)
    }
}

extension TenantLifecycle.Credentials: CustomReflectable {
    public var customMirror: Mirror {
        Mirror(self, children: [
            "adminEmail": adminEmail, "adminPassword": redacted, "roleName": roleName, "databaseName": databaseName,
            "conninfo": redacted,
        ], displayStyle: .struct)
    }
}

extension SSOSettings: CustomReflectable {
    public var customMirror: Mirror {
        Mirror(self, children: [
            "provider": provider, "clientID": clientID, "clientSecret": clientSecret.map { _ in redacted } as Any,
            "allowedDomains": allowedDomains, "justInTime": justInTime, "updatedAt": updatedAt,
        ], displayStyle: .struct)
    }
}
