//! `demo`: the server on a generated demo town, with a few agents' offline edits synced
//! through the real protocol before it is handed over.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use doorstep_core::sync::{CancellationToken, SyncConfig, enroll, sync};
use doorstep_core::{
    FixedClock, JobState, JobStep, MemberPatch, Role, Store, VisitOutcome, VisitRecord,
};
use doorstep_demo::{DemoOptions, DemoTown, generate};

use crate::http::blocking;
use crate::storage::Storage;
use crate::{households, http};

/// Writes a generated town into the server's database: its regions and people, then its
/// households (journaled under `demo`).
pub fn load_town(storage: &Storage, town: &DemoTown) -> Result<(), String> {
    for region in &town.regions {
        storage.put_region(region).map_err(|e| e.to_string())?;
    }
    for person in &town.users {
        storage.put_user(&person.user).map_err(|e| e.to_string())?;
    }
    households::import(storage, &town.households, "demo").map_err(|e| e.to_string())
}

/// Starts the demo on the server's opened database (`data` names it): fills it on first
/// use, serves, runs the simulated agents.
pub async fn run(
    listen: SocketAddr,
    data: &str,
    state: http::AppState,
    seed: u64,
) -> Result<(), String> {
    let options = DemoOptions {
        seed,
        ..DemoOptions::default()
    };
    let town = generate(&options).map_err(|e| e.to_string())?;
    let storage = Arc::clone(&state.storage);
    let fresh = blocking(move || storage.totals().map_err(|e| e.to_string()))
        .await?
        .households
        == 0;
    if fresh {
        println!(
            "正在写入演示乡镇（种子 {seed}）：{} 户 …",
            town.households.len()
        );
        let storage = Arc::clone(&state.storage);
        let written = town.clone();
        blocking(move || load_town(&storage, &written)).await?;
    } else {
        println!("数据 {data} 已有内容，直接使用");
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
        let phones =
            std::env::temp_dir().join(format!("doorstep-demo-phones-{}", std::process::id()));
        simulate_agents(&town, &options, &phones, &url, &state.storage).await?;
        let _ = std::fs::remove_dir_all(&phones);
    }
    let (guide_town, guide_state, guide_url, guide_data) =
        (town.clone(), state.clone(), url.clone(), data.to_string());
    blocking(move || print_guide(&guide_town, &guide_state, &guide_url, &guide_data)).await?;
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
    storage: &Arc<Storage>,
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
            let (codes, user_id) = (Arc::clone(storage), person.user.id.clone());
            let code = blocking(move || {
                codes
                    .issue_code(&user_id, chrono::Utc::now())
                    .map_err(|e| e.to_string())
            })
            .await?;
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
    data: &str,
) -> Result<(), String> {
    let totals = state.storage.totals().map_err(|e| e.to_string())?;
    println!();
    println!("家门口办 同步服务器（演示乡镇）已启动：{url}");
    println!(
        "  数据：{data}（{} 户，待镇中心处理的冲突字段 {} 个）",
        totals.households, totals.conflicts
    );
    println!("  健康检查：curl {url}/healthz");
    if let Some(staff) = town.users.iter().find(|u| u.user.role == Role::TownStaff) {
        // A fresh password on every start: the demo's database may be shared.
        let password = crate::storage::random_token()[..12].to_string();
        state
            .storage
            .set_password(&staff.user.id, &password, chrono::Utc::now())
            .map_err(|e| e.to_string())?;
        println!("  镇便民服务中心工作台：{url}/console");
        println!(
            "    演示账号（{}，镇工作人员）工号 {} 密码 {password}",
            staff.user.name, staff.user.id
        );
    }
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
            .storage
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
            "  之后再同步：去掉 --code 即可。新登记码：cargo run --release -p doorstep-sync-server -- admin --data {data} issue-code --user {}",
            agent.user.id
        );
    }
    println!("  按 Ctrl-C 停止服务器。");
    Ok(())
}
