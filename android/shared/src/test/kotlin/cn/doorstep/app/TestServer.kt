package cn.doorstep.app

import cn.doorstep.ffi.DatabaseKey
import cn.doorstep.ffi.DoorstepStore
import cn.doorstep.ffi.SyncServer
import java.io.File
import java.nio.file.Files
import java.security.SecureRandom
import java.util.concurrent.TimeUnit

/** The sync server binary the test script built (`-Ddoorstep.server=...`). */
private fun serverBinary(): String =
    System.getProperty("doorstep.server") ?: error("run with -Ddoorstep.server=<path of doorstep-sync-server>")

/**
 * A real sync server process on 127.0.0.1 with the seeded demo town (6 villages), in a
 * temporary data directory that is deleted on close.
 */
class TestServer(seed: Int = 7) : AutoCloseable {
    /** The village most tests work in, and its two users. */
    companion object {
        const val VILLAGE = "sanzhang-v01"
        const val AGENT = "sanzhang-v01-agent"
        const val HEAD = "sanzhang-v01-head"

        /** A member of the town's hub staff (镇便民服务中心). */
        const val TOWN_STAFF = "town-staff-1"
    }

    private val data: File = Files.createTempDirectory("doorstep-server").toFile()
    private val process: Process = ProcessBuilder(
        serverBinary(), "demo", "--listen", "127.0.0.1:0", "--data", data.path, "--seed", "$seed",
    ).redirectError(File(data, "server.log")).start()

    /** The server's base address. */
    val url: String

    init {
        val lines = process.inputStream.bufferedReader()
        val started = Regex("已启动：(http://\\S+)")
        url = generateSequence { lines.readLine() }
            .firstNotNullOfOrNull { started.find(it)?.groupValues?.get(1) }
            ?: error("the demo server stopped before it started: " + File(data, "server.log").readText())
        Thread { lines.forEachLine { } }.apply { isDaemon = true }.start()
    }

    /** A one-time enrollment code for a user, from the admin command. */
    fun issueCode(userId: String): String {
        val admin = ProcessBuilder(serverBinary(), "admin", "--data", data.path, "issue-code", "--user", userId)
            .redirectErrorStream(true)
            .start()
        val output = admin.inputStream.bufferedReader().readText()
        check(admin.waitFor(30, TimeUnit.SECONDS) && admin.exitValue() == 0) { "admin failed: $output" }
        return Regex("登记码 (\\S+)（").find(output)?.groupValues?.get(1) ?: error("no code in: $output")
    }

    override fun close() {
        process.destroy()
        process.waitFor(10, TimeUnit.SECONDS)
        data.deleteRecursively()
    }
}

/** A key held in memory, as the Android Keystore would hand it out. */
class FixedKey(private val key: ByteArray) : DatabaseKey {
    override fun databaseKey(): ByteArray = key
}

/** A phone: an encrypted store in a temporary file, deleted on close. */
class TestPhone(val key: ByteArray = ByteArray(32).also { SecureRandom().nextBytes(it) }) : AutoCloseable {
    private val dir: File = Files.createTempDirectory("doorstep-phone").toFile()

    /** The store file. */
    val path: String = File(dir, "phone.db").path

    /** The open store. */
    val store: DoorstepStore = DoorstepStore.open(path, FixedKey(key))

    /** The app's repository over this phone's store. */
    fun repository(serverUrl: String) = DoorstepRepository(store, SyncServer(serverUrl))

    override fun close() {
        store.close()
        dir.deleteRecursively()
    }
}
