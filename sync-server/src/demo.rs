//! `demo`: the server on a generated demo town, with a few agents' offline edits synced
//! through the real protocol before it is handed over.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use doorstep_core::demo::{DemoOptions, DemoTown, generate};
use doorstep_core::sync::{CancellationToken, SyncConfig, enroll, sync};
use doorstep_core::{
    FixedClock, JobState, JobStep, MemberPatch, Role, Store, VisitOutcome, VisitRecord,
};

use crate::accounts::Accounts;
use crate::http;

/// Starts the demo: fills the data directory on first use, serves, runs the simulated agents.
pub async fn run(listen: SocketAddr, data: &Path, seed: u64) -> Result<(), String> {
    let state = crate::cli::open_server(data)?;
    let options = DemoOptions {
        seed,
        ..DemoOptions::default()
    };
    let town = generate(&options).map_err(|e| e.to_string())?;
    let fresh = state
        .store
        .household_ids()
        .map_err(|e| e.to_string())?
        .is_empty();
    if fresh {
        println!(
            "正在写入演示乡镇（种子 {seed}）：{} 户 …",
            town.households.len()
        );
        for region in &town.regions {
            state
                .accounts
                .put_region(region)
                .map_err(|e| e.to_string())?;
        }
        for person in &town.users {
            state
                .accounts
                .put_user(&person.user)
                .map_err(|e| e.to_string())?;
        }
        state
            .store
            .import_documents_from("demo", town.households.clone())
            .map_err(|e| e.to_string())?;
    } else {
        println!("数据目录 {} 已有数据，直接使用", data.display());
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("无法监听 {listen}：{e}"))?;
    let url = format!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let server = tokio::spawn(http::serve(listener, state.clone()));
    if fresh {
        simulate_agents(&town, &options, &data.join("phones"), &url, &state.accounts).await?;
    }
    print_guide(&town, &state, &url, data)?;
    server
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

/// Two villages' agents and village heads download their villages, work offline (visits, job
/// steps, and both change the same phone number), then sync their work up.
async fn simulate_agents(
    town: &DemoTown,
    options: &DemoOptions,
    phones: &Path,
    url: &str,
    accounts: &Accounts,
) -> Result<(), String> {
    std::fs::create_dir_all(phones).map_err(|e| e.to_string())?;
    let today = options
        .today
        .and_hms_opt(2, 0, 0)
        .map(|t| t.and_utc())
        .ok_or("无效日期")?;
    for village in town.villages().take(2) {
        let config = SyncConfig::new(url);
        let people: Vec<_> = [Role::Agent, Role::VillageHead]
            .iter()
            .filter_map(|role| town.user(*role, &village.id))
            .collect();
        let mut phones_of_village = Vec::new();
        for person in &people {
            let path = phones.join(format!("{}.db", person.user.id));
            let phone = Arc::new(
                Store::open_with_clock(&path, Arc::new(FixedClock(today)))
                    .map_err(|e| e.to_string())?,
            );
            let code = accounts
                .issue_code(&person.user.id, chrono::Utc::now())
                .map_err(|e| e.to_string())?;
            let name = format!("{}的手机", person.user.name);
            enroll(Arc::clone(&phone), &config, &code, &name)
                .await
                .map_err(|e| e.to_string())?;
            sync(
                Arc::clone(&phone),
                config.clone(),
                None,
                CancellationToken::new(),
            )
            .await
            .map_err(|e| e.to_string())?;
            phones_of_village.push(phone);
        }
        let mut contested = None;
        for (n, (phone, person)) in phones_of_village.iter().zip(&people).enumerate() {
            let edits = offline_edits(phone, n, &mut contested).map_err(|e| e.to_string())?;
            let report = sync(
                Arc::clone(phone),
                config.clone(),
                None,
                CancellationToken::new(),
            )
            .await
            .map_err(|e| e.to_string())?;
            println!(
                "  {}（{}，{}）离线办理 {} 项后同步：服务器保存 {} 户",
                person.user.name,
                village.name,
                person.user.role.label(),
                edits,
                report.stored
            );
        }
    }
    Ok(())
}

/// A day's offline work on one phone; returns how many edits were made. Both people of a
/// village change the same member's phone number (`contested`), leaving a conflict.
fn offline_edits(
    phone: &Store,
    n: usize,
    contested: &mut Option<String>,
) -> doorstep_core::Result<usize> {
    let mut edits = 0;
    let households = phone.household_ids()?;
    for hh in households.iter().skip(n * 5).take(3) {
        phone.record_visit(
            hh,
            None,
            VisitRecord {
                purpose: "入户走访".into(),
                outcome: VisitOutcome::Met,
                notes: "了解近况，无新需求".into(),
                location: None,
            },
        )?;
        edits += 1;
    }
    for hh in &households {
        for job in phone.household(hh)?.jobs {
            let step = match job.progress.state {
                JobState::Informed => JobStep::Accept {
                    missing_materials: vec![],
                    supplement_deadline: None,
                },
                JobState::Delivered => JobStep::Close,
                _ => continue,
            };
            if phone.take_step(&job.job.id, step, None).is_ok() {
                edits += 1;
            }
            if edits >= 6 {
                break;
            }
        }
    }
    let member = match contested {
        Some(m) => m.clone(),
        None => {
            let first = phone.household(&households[0])?.members[0].id.clone();
            *contested = Some(first.clone());
            first
        }
    };
    let phone_number = format!("1390000{:04}", 1000 + 111 * n);
    phone.update_member(
        &member,
        MemberPatch {
            phone: Some(phone_number),
            ..MemberPatch::default()
        },
    )?;
    Ok(edits + 1)
}

fn print_guide(
    town: &DemoTown,
    state: &http::AppState,
    url: &str,
    data: &Path,
) -> Result<(), String> {
    let store = &state.store;
    let households = store.household_ids().map_err(|e| e.to_string())?;
    let conflicts: usize = households
        .iter()
        .map(|id| store.conflicts(id).map(|c| c.len()).unwrap_or(0))
        .sum();
    println!();
    println!("家门口办 同步服务器（演示乡镇）已启动：{url}");
    println!(
        "  数据目录：{}（{} 户，待镇中心处理的冲突字段 {conflicts} 个）",
        data.display(),
        households.len()
    );
    println!("  健康检查：curl {url}/healthz");
    println!("  各村：");
    for village in town.villages() {
        let agent = town
            .user(Role::Agent, &village.id)
            .map(|u| u.user.name.as_str())
            .unwrap_or("-");
        println!("    {} {}（代办员 {agent}）", village.id, village.name);
    }
    if let Some(agent) = town
        .villages()
        .next()
        .and_then(|v| town.user(Role::Agent, &v.id))
    {
        let code = state
            .accounts
            .issue_code(&agent.user.id, chrono::Utc::now())
            .map_err(|e| e.to_string())?;
        println!(
            "  用一台模拟手机以代办员 {} 的身份登记并同步（登记码24小时内有效，只能用一次）：",
            agent.user.name
        );
        println!(
            "    cargo run --release -p doorstep-sync-server -- sync-client --server {url} --code {code} --store ./phone.db"
        );
        println!(
            "  之后再同步：去掉 --code 即可。新登记码：cargo run --release -p doorstep-sync-server -- admin --data {} issue-code --user {}",
            data.display(),
            agent.user.id
        );
    }
    println!("  按 Ctrl-C 停止服务器。");
    Ok(())
}
