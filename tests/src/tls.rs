//! A TLS front for the sync server, as a town puts one before it: a certificate for 127.0.0.1
//! issued by a CA of the town's own, for testing phones that trust that CA.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate authority of its own.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl TestCa {
    /// A new CA named `name`.
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::default();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().expect("CA key");
        TestCa {
            issuer: CertifiedIssuer::self_signed(params, key).expect("CA certificate"),
        }
    }

    /// The CA's certificate (PEM), what a phone is told to trust.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }
}

/// HTTPS on a free loopback port, forwarding to a plain HTTP server; it runs until dropped.
pub struct TlsFront {
    /// Its address, `https://127.0.0.1:PORT`.
    pub url: String,
    _runtime: tokio::runtime::Runtime,
}

impl TlsFront {
    /// Starts a front for `upstream` (`http://HOST:PORT`) with a certificate from `ca`.
    pub fn start(upstream: &str, ca: &TestCa) -> TlsFront {
        let key = KeyPair::generate().expect("server key");
        let certificate = CertificateParams::new(vec!["127.0.0.1".to_string()])
            .expect("server names")
            .signed_by(&key, &ca.issuer)
            .expect("server certificate");
        let config = ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(
                vec![certificate.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .expect("TLS configuration");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let (runtime, listener, url) = crate::loopback_listener("https");
        let upstream = upstream.trim_start_matches("http://").to_string();
        runtime.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (acceptor, upstream) = (acceptor.clone(), upstream.clone());
                tokio::spawn(async move {
                    let Ok(mut client) = acceptor.accept(client).await else {
                        return;
                    };
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        TlsFront {
            url,
            _runtime: runtime,
        }
    }
}
