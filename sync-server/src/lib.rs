//! Doorstep (家门口办) sync server: one batched, resumable exchange with the agents' phones over
//! HTTP (axum), on the server's own storage (SQLite by default, PostgreSQL for a large
//! deployment), and the town hub's console (server-rendered pages for hub staff).

pub mod cli;
pub mod connections;
pub mod console;
pub mod demo;
pub mod exchange;
pub mod export;
pub mod households;
pub mod http;
pub mod limits;
pub mod storage;
