package cn.doorstep.android

import android.app.Application
import cn.doorstep.android.sync.SyncScheduling
import cn.doorstep.app.DoorstepRepository
import cn.doorstep.app.userMessage
import cn.doorstep.ffi.SyncServer
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext

/**
 * The app process: opens the phone's store once (off the main thread), builds the repository
 * every screen and the sync worker share, and schedules background sync.
 */
class DoorstepApplication : Application() {
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
    private val startupState = MutableStateFlow<Startup>(Startup.Opening)
    private var opening: Job? = null
    private lateinit var localStore: LocalStore

    /** Opening, ready, or failed with a message: what the activity shows. */
    val startup: StateFlow<Startup> = startupState.asStateFlow()

    /** The repository; only asked for by screens, which exist once the store is [Startup.Ready]. */
    val repository: DoorstepRepository
        get() = (startup.value as? Startup.Ready)?.repository
            ?: error("the store is not open (${startup.value})")

    override fun onCreate() {
        super.onCreate()
        localStore = LocalStore(filesDir, noBackupFilesDir)
        openStore(eraseFirst = false)
        SyncScheduling.start(this)
    }

    /**
     * Opens the store unless it is open or opening. With [eraseFirst] the unreadable database
     * and its key are deleted first (the failure screen asks the agent before that).
     */
    @Synchronized
    fun openStore(eraseFirst: Boolean) {
        if (opening?.isActive == true || startupState.value is Startup.Ready) return
        startupState.value = Startup.Opening
        opening = scope.launch {
            startupState.value = withContext(Dispatchers.IO) { openNow(eraseFirst) }
        }
    }

    /** Waits for the store to open; null when it could not be. */
    suspend fun awaitRepository(): DoorstepRepository? =
        (startup.first { it !is Startup.Opening } as? Startup.Ready)?.repository

    /**
     * The sync server compiled into the build, trusting only the town's CA when the app ships
     * one as `assets/$SERVER_CA_ASSET` (which HTTPS on Android needs: see README.md).
     */
    private fun syncServer(): SyncServer {
        val ca = runCatching { assets.open(SERVER_CA_ASSET).bufferedReader().use { it.readText() } }.getOrNull()
        return SyncServer(BuildConfig.SYNC_SERVER_URL, listOfNotNull(ca))
    }

    private suspend fun openNow(eraseFirst: Boolean): Startup = try {
        if (eraseFirst) localStore.erase()
        val repository = DoorstepRepository(localStore.open(), syncServer())
        Startup.Ready(repository, signedIn = repository.currentUser() != null)
    } catch (e: CancellationException) {
        throw e
    } catch (e: Exception) {
        Startup.Failed(e.userMessage())
    } catch (e: LinkageError) {
        // libdoorstep_ffi.so missing for this ABI, or bindings from another build of it.
        Startup.Failed("本机程序库无法加载（${e.message ?: e.javaClass.simpleName}），请重新安装应用")
    }
}

/** The town CA's certificate (PEM) in the app's assets, when the deployment ships one. */
private const val SERVER_CA_ASSET = "sync-server-ca.pem"
