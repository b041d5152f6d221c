import Doorstep
import Foundation
import Security

/// The database key: 32 random bytes made on first start and kept in the Keychain, readable
/// after the first unlock (so background sync works while the phone is locked) and never
/// leaving this device (not in backups, not on another phone).
final class KeychainKey: DatabaseKey, @unchecked Sendable {
    private let account = "doorstep-database-key"
    private let service = "cn.doorstep.app"

    func databaseKey() throws -> Data {
        var query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
            kSecReturnData as String: true,
        ]
        var item: CFTypeRef?
        switch SecItemCopyMatching(query as CFDictionary, &item) {
        case errSecSuccess:
            guard let key = item as? Data else { throw KeyError.Unavailable(reason: "钥匙串中的数据库密钥已损坏") }
            return key
        case errSecItemNotFound:
            var key = Data(count: 32)
            let made = key.withUnsafeMutableBytes { SecRandomCopyBytes(kSecRandomDefault, 32, $0.baseAddress!) }
            guard made == errSecSuccess else { throw KeyError.Unavailable(reason: "无法生成数据库密钥") }
            query[kSecReturnData as String] = nil
            query[kSecValueData as String] = key
            query[kSecAttrAccessible as String] = kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
            let added = SecItemAdd(query as CFDictionary, nil)
            guard added == errSecSuccess else { throw KeyError.Unavailable(reason: "无法保存数据库密钥（\(added)）") }
            return key
        case errSecInteractionNotAllowed:
            throw KeyError.Unavailable(reason: "手机重启后还没有解锁过，请先解锁手机")
        case let status:
            throw KeyError.Unavailable(reason: "无法读取数据库密钥（钥匙串错误 \(status)）")
        }
    }
}
