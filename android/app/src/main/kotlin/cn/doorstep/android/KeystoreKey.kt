package cn.doorstep.android

import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import android.util.AtomicFile
import cn.doorstep.ffi.DatabaseKey
import cn.doorstep.ffi.KeyException
import java.io.File
import java.io.FileNotFoundException
import java.io.IOException
import java.security.GeneralSecurityException
import java.security.KeyStore
import java.security.ProviderException
import java.security.SecureRandom
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * The key of the phone's encrypted database (SQLCipher), handed to the Rust store each time it
 * opens.
 *
 * The key is 32 random bytes made once. It is kept in [wrappedKeyFile] encrypted (wrapped)
 * with AES/GCM under a key that lives in the Android Keystore and never leaves it, so the file
 * alone is useless off this phone. A new key is made only while [databaseFile] does not exist
 * yet: a missing key for an existing database is reported, never silently replaced.
 * Failures reach the store as [KeyException.Unavailable] with a reason in Chinese.
 */
class KeystoreKey(
    private val wrappedKeyFile: File,
    private val databaseFile: File,
) : DatabaseKey {

    /** Returns the raw database key, making and saving it on the first run. */
    override fun databaseKey(): ByteArray = synchronized(lock) {
        try {
            val saved = AtomicFile(wrappedKeyFile)
            val wrapped = try {
                saved.readFully()
            } catch (e: FileNotFoundException) {
                null
            }
            when {
                wrapped != null -> unwrap(wrapped)
                databaseFile.exists() -> throw KeyException.Unavailable(
                    "本机数据库的密钥文件不见了，无法解开已有的数据",
                )
                else -> create(saved)
            }
        } catch (e: KeyException) {
            throw e
        } catch (e: GeneralSecurityException) {
            throw KeyException.Unavailable("系统密钥库无法解开本机数据库的密钥（${e.javaClass.simpleName}）")
        } catch (e: ProviderException) {
            // The Keystore service itself failed (seen on some phones right after boot).
            throw KeyException.Unavailable("系统密钥库暂时不可用，请稍后重试")
        } catch (e: IOException) {
            throw KeyException.Unavailable("读写密钥文件失败：${e.message ?: e.javaClass.simpleName}")
        } catch (e: IllegalArgumentException) {
            throw KeyException.Unavailable("密钥文件已损坏")
        }
    }

    private fun create(saved: AtomicFile): ByteArray {
        val raw = ByteArray(KEY_BYTES).also { SecureRandom().nextBytes(it) }
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.ENCRYPT_MODE, wrappingKey(createIfMissing = true))
        cipher.updateAAD(AAD)
        val iv = cipher.iv
        val sealed = cipher.doFinal(raw)
        val out = saved.startWrite()
        try {
            out.write(FORMAT_VERSION)
            out.write(iv.size)
            out.write(iv)
            out.write(sealed)
            saved.finishWrite(out)
        } catch (e: IOException) {
            saved.failWrite(out)
            throw e
        }
        return raw
    }

    private fun unwrap(bytes: ByteArray): ByteArray {
        require(bytes.size > 2 && bytes[0].toInt() == FORMAT_VERSION) { "unknown key file format" }
        val ivLength = bytes[1].toInt() and 0xff
        require(bytes.size > 2 + ivLength) { "truncated key file" }
        val iv = bytes.copyOfRange(2, 2 + ivLength)
        val sealed = bytes.copyOfRange(2 + ivLength, bytes.size)
        val key = wrappingKey(createIfMissing = false)
            ?: throw KeyException.Unavailable(
                "系统密钥库中本应用的密钥已丢失（可能清除过系统凭据或更换过手机），本机数据无法解开",
            )
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(TAG_BITS, iv))
        cipher.updateAAD(AAD)
        val raw = cipher.doFinal(sealed)
        require(raw.size == KEY_BYTES) { "wrong key length" }
        return raw
    }

    /** Forgets the key for good: after this the old database can never be opened again. */
    fun forget() = synchronized(lock) {
        AtomicFile(wrappedKeyFile).delete()
        try {
            keyStore().deleteEntry(ALIAS)
        } catch (e: GeneralSecurityException) {
            // The Keystore has no such entry or cannot be read: nothing more to forget.
        } catch (e: IOException) {
            // Likewise.
        }
    }

    private fun wrappingKey(createIfMissing: Boolean): SecretKey? {
        (keyStore().getKey(ALIAS, null) as? SecretKey)?.let { return it }
        if (!createIfMissing) return null
        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, ANDROID_KEYSTORE)
        generator.init(
            KeyGenParameterSpec.Builder(ALIAS, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
                .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
                .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
                .setKeySize(256)
                // Background sync opens the store with the screen locked: no user authentication.
                .setUserAuthenticationRequired(false)
                .build(),
        )
        return generator.generateKey()
    }

    private fun keyStore(): KeyStore = KeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }

    private companion object {
        const val ANDROID_KEYSTORE = "AndroidKeyStore"
        const val ALIAS = "doorstep-database-key-wrap"
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val TAG_BITS = 128
        const val KEY_BYTES = 32
        const val FORMAT_VERSION = 1
        val AAD = "doorstep database key v1".toByteArray()
        val lock = Any()
    }
}
