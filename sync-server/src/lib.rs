//! Doorstep (家门口办) sync server: one batched, resumable exchange with the agents' phones over
//! HTTP (axum), on a journaled store (SQLite by default), and the hub console to come.

pub mod accounts;
pub mod cli;
pub mod demo;
pub mod exchange;
pub mod http;

pub use cli::open_server_store;
