package cn.doorstep.android

import cn.doorstep.ffi.DoorstepStore
import java.io.File

/**
 * The phone's store on disk: the encrypted database in app-private [filesDir] and its wrapped
 * key in [noBackupDir] (app-private too, and never backed up: the wrapped key is useless
 * without this phone's Keystore).
 */
class LocalStore(filesDir: File, noBackupDir: File) {
    /** The SQLite (SQLCipher) database file of the Rust store. */
    val databaseFile: File = File(filesDir, DATABASE_NAME)

    private val key = KeystoreKey(File(noBackupDir, "doorstep-database.key"), databaseFile)

    /** Opens (creating on first use) the store; throws the core's exceptions on failure. */
    fun open(): DoorstepStore = DoorstepStore.open(databaseFile.absolutePath, key)

    /**
     * Deletes the database (with its WAL files) and its key: the last resort when the key is
     * lost. Changes not yet synced are gone; the phone must enroll again.
     */
    fun erase() {
        databaseFile.parentFile
            ?.listFiles { file -> file.name.startsWith(DATABASE_NAME) }
            ?.forEach { it.delete() }
        key.forget()
    }

    private companion object {
        const val DATABASE_NAME = "doorstep.db"
    }
}
