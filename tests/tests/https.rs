//! HTTPS through a TLS front: a phone that trusts the town's CA (and only it) enrolls and syncs;
//! one that trusts another CA, or is given something that is not a certificate, is refused
//! with its own error, and nothing on it changes.

mod common;

use std::sync::Arc;

use common::*;
use doorstep_core::Role;
use doorstep_core::sync::{self, SyncConfig, SyncError};
use doorstep_tests::{TestCa, TlsFront, phone, quick_config, sync_now};

#[test]
fn a_phone_trusting_the_towns_ca_enrolls_and_syncs_over_https() {
    let v = village();
    let town_ca = TestCa::new("三张镇便民服务中心测试CA");
    let front = TlsFront::start(&v.server.url, &town_ca);
    let https = |certificates: Vec<String>| SyncConfig {
        trusted_certificates: certificates,
        ..quick_config(&front.url)
    };

    let stranger = TestCa::new("陌生的CA");
    let refused = sync_now(&v.agent, https(vec![stranger.pem()])).unwrap_err();
    assert!(matches!(refused, SyncError::Network { .. }), "{refused}");
    let broken = sync_now(&v.agent, https(vec!["不是证书".into()])).unwrap_err();
    assert!(matches!(broken, SyncError::Certificate { .. }), "{broken}");
    assert!(
        broken.to_string().contains("服务器证书配置无效"),
        "{broken}"
    );
    assert!(v.agent.household_ids().unwrap().is_empty());

    let report = sync_now(&v.agent, https(vec![town_ca.pem()])).unwrap();
    assert_eq!(report.progress.documents_received, 12);
    assert!(v.agent.sync_status().unwrap().last_error.is_none());

    let head = person(&v.town, Role::VillageHead);
    let other_phone = phone(&v.dir.path().join("c.db"), &head, now());
    let code = doorstep_tests::open_storage(&v.data)
        .unwrap()
        .issue_code(&head.id, chrono::Utc::now())
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let answer = runtime
        .block_on(sync::enroll(
            Arc::clone(&other_phone),
            &https(vec![town_ca.pem()]),
            &code,
            "测试手机",
        ))
        .unwrap();
    assert_eq!(answer.user.id, head.id);
    assert_eq!(
        sync_now(&other_phone, https(vec![town_ca.pem()]))
            .unwrap()
            .progress
            .documents_received,
        12
    );
}
