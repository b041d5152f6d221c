package cn.doorstep.android.ui

import androidx.compose.runtime.CompositionLocalProvider
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.ui.geometry.Size
import androidx.compose.ui.graphics.toAwtImage
import androidx.compose.ui.test.ComposeUiTest
import androidx.compose.ui.test.ExperimentalTestApi
import androidx.compose.ui.test.SemanticsNodeInteraction
import androidx.compose.ui.test.captureToImage
import androidx.compose.ui.test.hasScrollAction
import androidx.compose.ui.test.hasSetTextAction
import androidx.compose.ui.test.hasText
import androidx.compose.ui.test.isRoot
import androidx.compose.ui.test.onAllNodesWithText
import androidx.compose.ui.test.onRoot
import androidx.compose.ui.test.performScrollToNode
import androidx.compose.ui.test.printToString
import androidx.compose.ui.test.runSkikoComposeUiTest
import androidx.compose.ui.unit.Density
import cn.doorstep.app.DoorstepRepository
import cn.doorstep.app.TestPhone
import cn.doorstep.app.TestServer
import cn.doorstep.core.Location
import cn.doorstep.core.SyncProgress
import cn.doorstep.core.SyncReport
import cn.doorstep.ffi.DoorstepStore
import cn.doorstep.ffi.DoorstepStoreInterface
import cn.doorstep.ffi.SyncCancel
import cn.doorstep.ffi.SyncListener
import cn.doorstep.ffi.SyncServer
import java.awt.image.BufferedImage
import java.io.File
import java.util.concurrent.atomic.AtomicInteger
import javax.imageio.ImageIO
import kotlin.coroutines.CoroutineContext
import kotlinx.coroutines.runBlocking

/** The phone the screens run on in the tests: a fixed place, and counts of what was asked. */
class TestPlatform : DoorstepPlatform {
    val locationAsks = AtomicInteger()
    val syncsHandedOver = AtomicInteger()
    override val deviceName = "界面测试手机"
    override fun lastKnownLocation() = Location(30.52, 111.43)
    override fun askForLocationOnce() {
        locationAsks.incrementAndGet()
    }
    override fun syncLeftRunning() {
        syncsHandedOver.incrementAndGet()
    }
}

/** The screen size the screenshots are taken at: a common phone, 360 x 800 dp at density 2. */
private const val DENSITY = 2f

/**
 * The app's screens over a real phone store and a real sync server on 127.0.0.1, started at
 * [start], drawn at phone size.
 */
class UiApp(val server: TestServer, val phone: TestPhone, private val start: Route, unhurried: Boolean) {
    val platform = TestPlatform()
    val repo = DoorstepRepository(if (unhurried) UnhurriedSync(phone.store) else phone.store, SyncServer(server.url))
    /** The app's navigator, made with the screen (see [uiTest]). */
    lateinit var navigator: Navigator

    /** Whether the navigator was made. */
    val isStarted: Boolean get() = this::navigator.isInitialized

    /** Makes the navigator: its holders work in [context], the UI's, as on the phone. */
    fun startNavigator(context: CoroutineContext): Navigator = Navigator(start, context).also { navigator = it }

    /** Enrolls the phone as [user] and syncs, without the screens. */
    fun enrolAndSync(user: String) = runBlocking {
        repo.enroll(server.issueCode(user), platform.deviceName)
        repo.sync(null, SyncCancel())
    }
}

/**
 * The phone's store, whose syncs pause after each progress report (the report is given first),
 * so that a test sees the progress of a sync of a village, which on 127.0.0.1 takes a moment.
 */
class UnhurriedSync(private val store: DoorstepStore, private val pauseMillis: Long = 500) :
    DoorstepStoreInterface by store {
    override suspend fun sync(server: SyncServer, listener: SyncListener?, cancel: SyncCancel): SyncReport =
        store.sync(
            server,
            listener?.let { inner ->
                object : SyncListener {
                    override fun onProgress(progress: SyncProgress) {
                        inner.onProgress(progress)
                        Thread.sleep(pauseMillis)
                    }
                }
            },
            cancel,
        )
}

/**
 * Runs [block] with the app on screen at phone size, on a phone enrolled as [user] (none when
 * null) and synced, after [prepare]; with [unhurried], syncs pause after each progress report
 * ([UnhurriedSync]). Closes the app, the phone and the server after.
 */
@OptIn(ExperimentalTestApi::class)
fun uiTest(
    start: Route,
    user: String? = TestServer.AGENT,
    unhurried: Boolean = false,
    prepare: UiApp.() -> Unit = {},
    block: suspend ComposeUiTest.(UiApp) -> Unit,
) = uiTestNamed(testName(), start, user, unhurried, prepare, block)

/** The calling test method's name (the first frame of a class whose name ends in "Test"). */
private fun testName(): String =
    Thread.currentThread().stackTrace.firstOrNull { it.className.endsWith("Test") }?.methodName ?: "test"

@OptIn(ExperimentalTestApi::class)
private fun uiTestNamed(
    test: String,
    start: Route,
    user: String?,
    unhurried: Boolean,
    prepare: UiApp.() -> Unit,
    block: suspend ComposeUiTest.(UiApp) -> Unit,
) =
    TestServer().use { server ->
        TestPhone().use { phone ->
            val app = UiApp(server, phone, start, unhurried)
            if (user != null) app.enrolAndSync(user)
            app.prepare()
            try {
                runSkikoComposeUiTest(size = Size(360 * DENSITY, 800 * DENSITY), density = Density(DENSITY)) {
                    setContent {
                        CompositionLocalProvider(LocalDoorstep provides DoorstepEnvironment(app.repo, app.platform)) {
                            // The holders work on the UI's dispatcher (as in the app, where they
                            // work in the view model's scope, on the main thread) and call the
                            // store on the IO threads.
                            val scope = rememberCoroutineScope()
                            val navigator = remember { app.startNavigator(scope.coroutineContext) }
                            DoorstepTheme { DoorstepApp(navigator) }
                        }
                    }
                    try {
                        block(app)
                    } catch (e: Throwable) {
                        // What the screen showed when the test failed: a screenshot named after
                        // the test, and its semantics tree in the log.
                        runCatching { screenshot("failed-$test", now = true) }.onFailure { it.printStackTrace() }
                        runCatching { System.err.println(onRoot().printToString()) }
                        throw e
                    }
                }
            } finally {
                if (app.isStarted) app.navigator.close()
            }
        }
    }

private val shotDir: File? = System.getProperty("doorstep.screenshots")?.let { File(it) }

/**
 * Saves what the screen shows as `NAME.png` in the screenshot folder (-Ddoorstep.screenshots),
 * once the UI is idle unless [now] (as while a sync runs).
 */
@OptIn(ExperimentalTestApi::class)
fun ComposeUiTest.screenshot(name: String, now: Boolean = false) {
    if (!now) waitForIdle()
    // The screen and, over it, each dialog or menu open (each is a root of its own).
    val roots = onAllNodes(isRoot())
    val layers = roots.fetchSemanticsNodes().mapIndexed { i, node ->
        node.boundsInWindow to roots[i].captureToImage().toAwtImage()
    }
    val screen = layers.first().second
    val image = BufferedImage(screen.width, screen.height, BufferedImage.TYPE_INT_ARGB)
    image.createGraphics().apply {
        layers.forEach { (bounds, layer) -> drawImage(layer, bounds.left.toInt(), bounds.top.toInt(), null) }
        dispose()
    }
    val dir = shotDir ?: return
    dir.mkdirs()
    ImageIO.write(image, "png", File(dir, "$name.png"))
}

/** Waits (up to [seconds]) until some node shows [text] (a part of its text when [substring]). */
@OptIn(ExperimentalTestApi::class)
fun ComposeUiTest.waitForText(text: String, substring: Boolean = false, seconds: Long = 30) {
    waitUntil("“$text” on screen", seconds * 1000) {
        onAllNodesWithText(text, substring = substring).fetchSemanticsNodes().isNotEmpty()
    }
}

/** Whether some node shows [text] now. */
@OptIn(ExperimentalTestApi::class)
fun ComposeUiTest.shows(text: String, substring: Boolean = false): Boolean =
    onAllNodesWithText(text, substring = substring).fetchSemanticsNodes().isNotEmpty()

/** Scrolls the screen's list or column until [text] is composed, then returns its node. */
@OptIn(ExperimentalTestApi::class)
fun ComposeUiTest.scrollTo(text: String, substring: Boolean = false): SemanticsNodeInteraction {
    onAllNodes(hasScrollAction())[0].performScrollToNode(hasText(text, substring = substring))
    return onAllNodesWithText(text, substring = substring)[0]
}

/** The text field labelled [label] (a part of the label is enough). */
@OptIn(ExperimentalTestApi::class)
fun ComposeUiTest.field(label: String): SemanticsNodeInteraction =
    onNode(hasSetTextAction() and hasText(label, substring = true))
