import org.jetbrains.kotlin.gradle.dsl.JvmTarget

// The app's Compose screens and their navigation. Only Compose APIs published for Android and
// the desktop JVM alike (runtime, foundation, material3, ui, the core icons): no activity,
// navigation or lifecycle artifacts, which are the app's (android/app). The same sources are
// compiled for the JVM and driven by UI tests there by scripts/compose-test.sh, against Compose
// Multiplatform's desktop artifacts (pom.xml beside this file).
plugins {
    alias(libs.plugins.android.library)
    alias(libs.plugins.kotlin.android)
    alias(libs.plugins.kotlin.compose)
}

android {
    namespace = "cn.doorstep.android.ui"
    compileSdk = 35

    defaultConfig {
        minSdk = 26
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    buildFeatures {
        compose = true
    }
}

kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_17)
    }
}

dependencies {
    api(project(":shared"))

    api(platform(libs.compose.bom))
    api(libs.compose.ui)
    implementation(libs.compose.foundation)
    implementation(libs.compose.material3)
    implementation(libs.compose.material.icons.core)
}
