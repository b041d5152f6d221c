package cn.doorstep.app

import cn.doorstep.core.SyncProgress
import cn.doorstep.core.VisitOutcome
import cn.doorstep.core.VisitRecord
import cn.doorstep.ffi.DoorstepStore
import cn.doorstep.ffi.SyncCancel
import cn.doorstep.ffi.SyncListener
import kotlinx.coroutines.runBlocking

/**
 * Times the calls an app makes, from Kotlin through JNA into the library, on a phone that has
 * synced the whole demo town (360 households) from a real server on 127.0.0.1. Run with
 * `scripts/kotlin-test.sh --bench`; figures go to BENCHMARKS.md.
 */
object BindingsBenchmark {
    private fun median(samples: List<Long>): Double = samples.sorted()[samples.size / 2] / 1e6

    /** Median milliseconds of `times` calls, after `warmup` calls that are not counted. */
    private fun time(name: String, times: Int, warmup: Int = 20, call: (Int) -> Unit) {
        repeat(warmup) { call(it) }
        val samples = (0 until times).map { i ->
            val start = System.nanoTime()
            call(warmup + i)
            System.nanoTime() - start
        }
        println("%-44s median %8.3f ms  (%d calls)".format(name, median(samples), times))
    }

    @JvmStatic
    fun main(args: Array<String>) {
        TestServer().use { server ->
            TestPhone().use { phone ->
                val repo = phone.repository(server.url)
                var rounds = 0
                val counter = object : SyncListener {
                    override fun onProgress(progress: SyncProgress) {
                        rounds = progress.rounds.toInt()
                    }
                }
                val start = System.nanoTime()
                val report = runBlocking {
                    repo.enroll(server.issueCode("town-staff-1"), "基准测试手机")
                    repo.sync(counter, SyncCancel())
                }
                println(
                    "first sync of the town: %d households, %d rounds, %d bytes down, %.0f ms".format(
                        report.progress.documentsReceived.toLong(), rounds,
                        report.progress.bytesReceived.toLong(), (System.nanoTime() - start) / 1e6,
                    ),
                )
                val store = phone.store
                val ids = store.householdIds()
                val today = repo.today()
                time("no-op sync (loopback)", 20, warmup = 3) { runBlocking { repo.sync(null, SyncCancel()) } }
                time("todayWork, first 100 lines of the town", 200) { store.todayWork(today, null, 100u) }
                time("todayWork, one village", 200) { store.todayWork(today, "sanzhang-v01", 500u) }
                time("household(id): the whole record", ids.size) { store.household(ids[it % ids.size]) }
                time("search(\"王\", 20)", 200) { store.search("王", 20u) }
                time("possibleSteps(job)", 200) {
                    val jobs = store.household(ids[it % ids.size]).jobs
                    if (jobs.isNotEmpty()) store.possibleSteps(jobs.first().job.id)
                }
                time("recordVisit (fsynced)", 100) {
                    store.recordVisit(ids[it % ids.size], null, VisitRecord("基准走访", VisitOutcome.MET, "", null))
                }
                val path = phone.path
                time("open the encrypted store", 20, warmup = 2) {
                    DoorstepStore.open(path, FixedKey(phone.key)).close()
                }
            }
        }
    }
}
