//! The connections the server holds open: counted per client address, and, when every slot is
//! taken, the oldest connection that has not shown a credential yet is closed to make room.
//! A phone whose token is a device's, or a staff member signed in, is never closed for a
//! newcomer: clients without an account cannot hold what honest clients need.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use tokio::sync::Notify;

use crate::limits::MAX_CONNECTIONS_PER_ADDRESS;

/// Connections open per client address; a connection counts until its guard drops.
#[derive(Clone, Default)]
pub struct PerAddress(Arc<Mutex<HashMap<IpAddr, usize>>>);

/// One connection counted against its address.
pub struct Counted {
    table: PerAddress,
    address: IpAddr,
}

impl PerAddress {
    /// Counts a connection from `address`, unless it already holds
    /// [`MAX_CONNECTIONS_PER_ADDRESS`].
    pub fn admit(&self, address: IpAddr) -> Option<Counted> {
        let mut table = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let open = table.entry(address).or_default();
        if *open >= MAX_CONNECTIONS_PER_ADDRESS {
            return None;
        }
        *open += 1;
        Some(Counted {
            table: self.clone(),
            address,
        })
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut table = self.table.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(open) = table.get_mut(&self.address) {
            *open -= 1;
            if *open == 0 {
                table.remove(&self.address);
            }
        }
    }
}

/// One open connection: whether a request on it has shown a credential, and the signal that
/// closes it.
#[derive(Default)]
pub struct Connection {
    proven: AtomicBool,
    close: Notify,
}

impl Connection {
    /// Marks the connection as one of a known device or a signed-in staff member: it is no
    /// longer closed to make room.
    pub fn proven(&self) {
        self.proven.store(true, Ordering::Relaxed);
    }

    /// Resolves once the connection must close to make room for another.
    pub async fn closed(&self) {
        self.close.notified().await;
    }
}

/// The open connections, oldest first.
#[derive(Clone, Default)]
pub struct OpenConnections(Arc<Mutex<Opened>>);

#[derive(Default)]
struct Opened {
    next: u64,
    by_age: BTreeMap<u64, Arc<Connection>>,
}

/// A connection listed in [`OpenConnections`] until this drops.
pub struct Listed {
    table: OpenConnections,
    number: u64,
    /// The connection.
    pub connection: Arc<Connection>,
}

impl OpenConnections {
    /// Lists a new connection.
    pub fn open(&self) -> Listed {
        let mut opened = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let number = opened.next;
        opened.next += 1;
        let connection = Arc::new(Connection::default());
        opened.by_age.insert(number, Arc::clone(&connection));
        Listed {
            table: self.clone(),
            number,
            connection,
        }
    }

    /// Closes the oldest connection that has shown no credential; `false` when every open
    /// connection has.
    pub fn shed_oldest_unproven(&self) -> bool {
        let mut opened = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let oldest = opened
            .by_age
            .iter()
            .find(|(_, c)| !c.proven.load(Ordering::Relaxed))
            .map(|(&number, c)| (number, Arc::clone(c)));
        match oldest {
            Some((number, connection)) => {
                // Listed no more, so that the next shed picks another one.
                opened.by_age.remove(&number);
                connection.close.notify_one();
                true
            }
            None => false,
        }
    }
}

impl Drop for Listed {
    fn drop(&mut self) {
        let mut opened = self.table.0.lock().unwrap_or_else(|p| p.into_inner());
        opened.by_age.remove(&self.number);
    }
}

/// The connection a request came on (absent for requests not served by
/// [`crate::http::serve`], such as in-process tests of the router).
#[derive(Clone, Default)]
pub struct ThisConnection(pub Option<Arc<Connection>>);

impl ThisConnection {
    /// Marks the connection as proven (see [`Connection::proven`]).
    pub fn proven(&self) {
        if let Some(connection) = &self.0 {
            connection.proven();
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ThisConnection {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _: &S,
    ) -> Result<ThisConnection, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ThisConnection>()
            .cloned()
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Whether `connection` was told to close.
    fn told_to_close(connection: &Connection) -> bool {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        runtime.block_on(async {
            tokio::time::timeout(Duration::from_millis(10), connection.closed())
                .await
                .is_ok()
        })
    }

    #[test]
    fn the_oldest_connection_without_a_credential_is_shed_first() {
        let open = OpenConnections::default();
        let (first, second, third) = (open.open(), open.open(), open.open());
        first.connection.proven();
        assert!(open.shed_oldest_unproven());
        assert!(!told_to_close(&first.connection), "proven: kept");
        assert!(told_to_close(&second.connection), "the oldest unproven");
        assert!(!told_to_close(&third.connection));
        drop(second);
        drop(third);
        assert!(!open.shed_oldest_unproven(), "only a proven one is left");
    }
}
