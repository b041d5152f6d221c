// Doorstep (家门口办) Android build: the app shell (:app), its Compose screens (:ui, which use only
// Compose APIs published for Android and the desktop JVM alike) and its plain-JVM logic (:shared).
pluginManagement {
    repositories {
        google {
            content {
                includeGroupByRegex("com\\.android.*")
                includeGroupByRegex("com\\.google.*")
                includeGroupByRegex("androidx.*")
            }
        }
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "doorstep-android"
include(":app", ":ui", ":shared")
