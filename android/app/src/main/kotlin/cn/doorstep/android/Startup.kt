package cn.doorstep.android

import cn.doorstep.app.DoorstepRepository

/** Where the app stands in opening the phone's store. */
sealed interface Startup {
    /** The store is being opened (first launch: the key is made, the database created). */
    data object Opening : Startup

    /** The store is open; [signedIn] tells whether the phone has enrolled. */
    data class Ready(val repository: DoorstepRepository, val signedIn: Boolean) : Startup

    /** The store could not be opened; [message] says why, in Chinese. */
    data class Failed(val message: String) : Startup
}
