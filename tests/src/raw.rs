//! A hand-made client that speaks the sync protocol directly with a device's token: for tests
//! that send what an honest phone never would (forged, repeated or malformed requests) and read
//! the server's answer as it is.

use doorstep_core::Store;
use doorstep_core::sync::protocol::{
    self, ENROLL_PATH, EnrollRequest, EnrollResponse, SYNC_PATH, SyncRequest, SyncResponse,
};

/// One device's raw connection to a server.
pub struct RawClient {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    /// The server's base address.
    pub url: String,
    /// The device token sent as `Authorization: Bearer`.
    pub token: String,
    /// The device id the token was issued for.
    pub device: String,
}

impl RawClient {
    /// A raw client sending `token` (possibly none) for `device`.
    pub fn of_token(url: &str, token: &str, device: &str) -> RawClient {
        RawClient::with(url, token.to_string(), device.to_string())
    }

    fn with(url: &str, token: String, device: String) -> RawClient {
        RawClient {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime"),
            // Idle connections are dropped before the server's idle limit closes them.
            client: reqwest::Client::builder()
                .pool_idle_timeout(std::time::Duration::from_secs(5))
                .build()
                .expect("client"),
            url: url.to_string(),
            token,
            device,
        }
    }

    /// The raw client of an enrolled phone: its token and its device id.
    pub fn of_phone(url: &str, phone: &Store) -> RawClient {
        let token = phone.device_token().expect("token").expect("enrolled");
        RawClient::with(url, token, phone.device_actor())
    }

    /// Enrolls `device` with `code` over HTTP; `Err` holds the status and the server's text.
    pub fn enroll(
        url: &str,
        code: &str,
        device: &str,
        name: &str,
    ) -> Result<RawClient, (u16, String)> {
        let raw = RawClient::with(url, String::new(), device.to_string());
        let request = EnrollRequest {
            code: code.to_string(),
            device: device.to_string(),
            device_name: name.to_string(),
        };
        let body = serde_json::to_vec(&request).expect("json");
        let (status, bytes) = raw.send(ENROLL_PATH, body);
        if status != 200 {
            return Err((status, String::from_utf8_lossy(&bytes).into_owned()));
        }
        let answer: EnrollResponse = serde_json::from_slice(&bytes).expect("enroll answer");
        Ok(RawClient {
            token: answer.token,
            ..raw
        })
    }

    /// Posts a raw body to `path`: the status and the answer's bytes.
    pub fn post_to(&self, path: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
        self.send(path, body)
    }

    fn send(&self, path: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
        self.runtime.block_on(async {
            let response = self
                .client
                .post(format!("{}{path}", self.url))
                .bearer_auth(&self.token)
                .body(body)
                .send()
                .await
                .expect("send");
            let status = response.status().as_u16();
            (status, response.bytes().await.expect("body").to_vec())
        })
    }

    /// Posts a raw body to the sync endpoint: the status and the answer's bytes.
    pub fn post(&self, body: Vec<u8>) -> (u16, Vec<u8>) {
        self.send(SYNC_PATH, body)
    }

    /// Sends one sync request; `Err` holds the status and the server's text.
    pub fn exchange(&self, request: &SyncRequest) -> Result<SyncResponse, (u16, String)> {
        let (status, body) = self.post(protocol::encode(request));
        if status != 200 {
            return Err((status, String::from_utf8_lossy(&body).into_owned()));
        }
        Ok(protocol::decode(&body).expect("a readable answer"))
    }

    /// A GET of `path`: the status and the text.
    pub fn get(&self, path: &str) -> (u16, String) {
        self.runtime.block_on(async {
            let response = self
                .client
                .get(format!("{}{path}", self.url))
                .send()
                .await
                .expect("send");
            let status = response.status().as_u16();
            (status, response.text().await.expect("text"))
        })
    }
}
