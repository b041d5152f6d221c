//! The connections the server holds open: counted per client address, and, when every slot is
//! taken, one with no request in work is closed to make room: the oldest of the address that
//! holds the most. A request is in work once it has shown a credential (a device's token with
//! its turn to sync, a staff member's session, an enrollment's body with its turn to be
//! checked) until its answer: a connection waiting for headers, a body or its next request can
//! be closed, so neither a client without an account nor an enrolled one holding idle
//! connections keeps honest clients out.

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

/// One open connection: its client's address, whether a request with a credential is being
/// worked on it now, and the signal that closes it.
pub struct Connection {
    address: IpAddr,
    busy: AtomicBool,
    close: Notify,
}

/// A connection kept from being closed for a newcomer while this lives (the request's work).
pub struct Busy(Arc<Connection>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.store(false, Ordering::Relaxed);
    }
}

impl Connection {
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
    /// Lists a new connection from `address`.
    pub fn open(&self, address: IpAddr) -> Listed {
        let mut opened = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let number = opened.next;
        opened.next += 1;
        let connection = Arc::new(Connection {
            address,
            busy: AtomicBool::new(false),
            close: Notify::new(),
        });
        opened.by_age.insert(number, Arc::clone(&connection));
        Listed {
            table: self.clone(),
            number,
            connection,
        }
    }

    /// Closes a connection with no request in work to make room: the oldest of the address
    /// that holds the most such connections (an honest phone has one or two, a flood many).
    /// `false` when every open connection has a request in work.
    pub fn shed_one(&self) -> bool {
        let mut opened = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let idle = |c: &Arc<Connection>| !c.busy.load(Ordering::Relaxed);
        let mut per_address: HashMap<IpAddr, usize> = HashMap::new();
        for connection in opened.by_age.values().filter(|c| idle(c)) {
            *per_address.entry(connection.address).or_default() += 1;
        }
        let Some((&address, _)) = per_address.iter().max_by_key(|(_, n)| **n) else {
            return false;
        };
        let victim = opened
            .by_age
            .iter()
            .find(|(_, c)| c.address == address && idle(c))
            .map(|(&number, c)| (number, Arc::clone(c)));
        match victim {
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
    /// Keeps the connection from being closed for a newcomer until the returned guard drops:
    /// taken once a request has shown a credential and got its turn, for the request's work.
    pub fn busy(&self) -> Option<Busy> {
        let connection = self.0.as_ref()?;
        connection.busy.store(true, Ordering::Relaxed);
        Some(Busy(Arc::clone(connection)))
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
    fn the_oldest_idle_connection_of_the_busiest_address_is_shed() {
        let open = OpenConnections::default();
        let (honest, flood) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let phone = open.open(honest);
        let floods: Vec<Listed> = (0..3).map(|_| open.open(flood)).collect();
        let working = ThisConnection(Some(Arc::clone(&floods[0].connection)));
        let busy = working.busy();
        assert!(open.shed_one());
        assert!(
            !told_to_close(&phone.connection),
            "one of the flood's goes first"
        );
        assert!(
            !told_to_close(&floods[0].connection),
            "a request in work: kept"
        );
        assert!(
            told_to_close(&floods[1].connection),
            "the flood's oldest idle one"
        );
        assert!(!told_to_close(&floods[2].connection));
        drop(floods);
        drop(busy);
        assert!(
            open.shed_one(),
            "the phone's, once it is the only idle one left"
        );
        assert!(told_to_close(&phone.connection));
        assert!(!open.shed_one(), "nothing left to close");
    }
}
