import org.jetbrains.kotlin.gradle.dsl.JvmTarget

// The Android app shell of Doorstep (家门口办): the activity around the Compose screens of :ui
// (over the :shared logic), the Rust library (src/main/jniLibs, built by cargo-ndk) loaded through JNA, and background sync
// with WorkManager. No Google Play Services.
plugins {
    alias(libs.plugins.android.application)
    alias(libs.plugins.kotlin.android)
    alias(libs.plugins.kotlin.compose)
}

val debugServerUrl: String = providers.gradleProperty("doorstep.debugServerUrl").getOrElse("http://10.0.2.2:8080")
val releaseServerUrl: String = providers.gradleProperty("doorstep.releaseServerUrl").getOrElse("https://sync.example.cn")

android {
    namespace = "cn.doorstep.android"
    compileSdk = 35

    defaultConfig {
        applicationId = "cn.doorstep.android"
        minSdk = 26
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
        // The ABIs cargo-ndk builds (README.md); JNA ships more, which would only load
        // without our library.
        ndk {
            abiFilters += listOf("arm64-v8a", "armeabi-v7a", "x86_64")
        }
    }

    buildTypes {
        debug {
            buildConfigField("String", "SYNC_SERVER_URL", "\"$debugServerUrl\"")
            // The demo server speaks plain HTTP on the developer's computer.
            manifestPlaceholders["usesCleartextTraffic"] = "true"
        }
        release {
            buildConfigField("String", "SYNC_SERVER_URL", "\"$releaseServerUrl\"")
            manifestPlaceholders["usesCleartextTraffic"] = "false"
            // JNA and the uniffi bindings are reached by reflection and by name from native
            // code: shrinking needs keep rules for com.sun.jna.** and cn.doorstep.** first.
            isMinifyEnabled = false
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    buildFeatures {
        compose = true
        buildConfig = true
    }

    sourceSets {
        getByName("main") {
            // libdoorstep_ffi.so per ABI, from cargo-ndk; git-ignored.
            jniLibs.srcDirs("src/main/jniLibs")
        }
    }

    packaging {
        resources {
            excludes += "/META-INF/{AL2.0,LGPL2.1}"
        }
    }
}

kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_17)
    }
}

// Fails packaging (not IDE sync) early and plainly when the Rust library was not built.
val jniLibsDir: File = file("src/main/jniLibs")
tasks.matching { it.name.startsWith("merge") && it.name.endsWith("JniLibFolders") }.configureEach {
    doFirst {
        check(jniLibsDir.walkTopDown().any { it.name == "libdoorstep_ffi.so" }) {
            "libdoorstep_ffi.so is missing from $jniLibsDir: build it with cargo ndk (see android/README.md)"
        }
    }
}

dependencies {
    implementation(project(":ui"))
    implementation(project(":shared"))
    // JNA with its native dispatch libraries for Android; the uniffi bindings call through it.
    implementation("net.java.dev.jna:jna:${libs.versions.jna.get()}@aar")

    implementation(libs.kotlinx.coroutines.android)
    implementation(libs.androidx.core.ktx)
    implementation(libs.androidx.activity.compose)
    implementation(libs.androidx.lifecycle.viewmodel.ktx)
    implementation(libs.androidx.lifecycle.runtime.compose)
    implementation(libs.androidx.work.runtime.ktx)

    implementation(platform(libs.compose.bom))
    implementation(libs.compose.ui)
    implementation(libs.compose.foundation)
    implementation(libs.compose.material3)
}
