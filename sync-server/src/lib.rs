//! Doorstep (家门口办) sync server: one batched, resumable exchange with the agents' phones over
//! HTTP (axum), on the server's own storage (SQLite by default, PostgreSQL for a large
//! deployment), and the hub console to come.

pub mod cli;
pub mod demo;
pub mod exchange;
pub mod households;
pub mod http;
pub mod limits;
pub mod storage;
