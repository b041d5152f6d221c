//! Ledger and job exports of the hand-counted district, read back: the XLSX with calamine cell
//! by cell (identity numbers as text, masked by default; dates as dates; header frozen; widths
//! set), the CSV with its byte-order mark; the full-export permission and its audit.

mod common;

use std::io::Read;

use calamine::Data;
use chrono::NaiveDate;
use common::read_xlsx;
use doorstep_sync_server::export::sheets::{Numbers, Sheet};
use doorstep_sync_server::export::{self, ExportRequest, Format};
use doorstep_sync_server::http::AppState;
use doorstep_tests::hand_counted::{self, V1, V2, X1, ZHANG_ID};

fn loaded(dir: &tempfile::TempDir) -> AppState {
    hand_counted::loaded(dir.path()).1
}

fn all() -> Vec<String> {
    vec![V1.to_string(), V2.to_string(), X1.to_string()]
}

fn write(state: &AppState, dir: &tempfile::TempDir, request: &ExportRequest) -> std::path::PathBuf {
    let path = dir
        .path()
        .join(format!("export.{}", request.format.extension()));
    let mut seen = Vec::new();
    let summary = export::write(&state.storage, request, &path, dir.path(), |done| {
        seen.push(done);
        Ok(())
    })
    .unwrap();
    assert_eq!(
        seen.last().copied(),
        Some(summary.households),
        "progress ends at the total"
    );
    path
}

fn text(cell: &Data) -> String {
    match cell {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => panic!("expected text, found {other:?}"),
    }
}

fn date_time(cell: &Data) -> chrono::NaiveDateTime {
    match cell {
        Data::DateTime(d) => d.as_datetime().unwrap(),
        other => panic!("expected a date, found {other:?}"),
    }
}

fn day(month: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, month, d).unwrap()
}

fn sheet(book: &[(String, Vec<Vec<Data>>)], sheet: Sheet) -> &Vec<Vec<Data>> {
    &book
        .iter()
        .find(|(name, _)| name == sheet.name())
        .unwrap()
        .1
}

fn column(sheet: Sheet, header: &str) -> usize {
    sheet
        .columns()
        .iter()
        .position(|(h, _)| *h == header)
        .unwrap()
}

#[test]
fn the_workbook_reads_back_cell_by_cell_with_numbers_masked() {
    let dir = tempfile::tempdir().unwrap();
    let state = loaded(&dir);
    let request = ExportRequest {
        villages: all(),
        format: Format::Xlsx,
        numbers: Numbers::Masked,
    };
    let path = write(&state, &dir, &request);
    let book = read_xlsx(&path);
    let names: Vec<&str> = book.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["户", "成员", "台账事项", "办件", "办理过程"]);
    for s in Sheet::ALL {
        let header: Vec<String> = sheet(&book, s)[0].iter().map(text).collect();
        let expected: Vec<&str> = s.columns().iter().map(|(h, _)| *h).collect();
        assert_eq!(header, expected, "{}", s.name());
    }

    let households = sheet(&book, Sheet::Households);
    assert_eq!(households.len(), 1 + 3);
    assert_eq!(text(&households[1][0]), "三兴村");
    assert_eq!(text(&households[1][4]), "138****8000");
    assert_eq!(
        households[1][5],
        Data::Float(2.0),
        "member count as a number"
    );

    let members = sheet(&book, Sheet::Members);
    let zhang = members
        .iter()
        .find(|r| text(&r[column(Sheet::Members, "姓名")]) == "张桂兰")
        .unwrap();
    assert_eq!(
        zhang[column(Sheet::Members, "身份证号")],
        Data::String("610522********002X".into())
    );
    assert_eq!(
        text(&zhang[column(Sheet::Members, "联系电话")]),
        "138****8000"
    );
    assert_eq!(text(&zhang[column(Sheet::Members, "特殊群体")]), "独居老人");
    let all_cells: Vec<String> = book
        .iter()
        .flat_map(|(_, rows)| rows.iter().flatten())
        .map(|c| c.to_string())
        .collect();
    assert!(
        !all_cells.iter().any(|c| c.contains(ZHANG_ID)),
        "no full number anywhere"
    );
    assert!(
        !all_cells.iter().any(|c| c.contains("13800138000")),
        "no full phone anywhere"
    );

    let ledger = sheet(&book, Sheet::Ledger);
    assert_eq!(ledger.len(), 1 + 3);
    let wheelchair = ledger
        .iter()
        .find(|r| text(&r[column(Sheet::Ledger, "事项")]) == "轮椅申领")
        .unwrap();
    assert_eq!(text(&wheelchair[column(Sheet::Ledger, "状态")]), "已办结");
    assert_eq!(
        date_time(&wheelchair[column(Sheet::Ledger, "上次完成或销号")]).date(),
        day(3, 12)
    );
    assert_eq!(
        date_time(&wheelchair[column(Sheet::Ledger, "登记日期")]).date(),
        day(3, 2)
    );

    let jobs = sheet(&book, Sheet::Jobs);
    assert_eq!(jobs.len(), 1 + 7);
    let on_time: Vec<String> = jobs[1..]
        .iter()
        .map(|r| text(&r[column(Sheet::Jobs, "按时办结")]))
        .collect();
    assert_eq!(on_time.iter().filter(|v| *v == "是").count(), 2);
    assert_eq!(on_time.iter().filter(|v| *v == "否").count(), 2);
    let first = jobs[1..]
        .iter()
        .find(|r| {
            date_time(&r[column(Sheet::Jobs, "告知时间")])
                == day(3, 2).and_hms_opt(10, 0, 0).unwrap()
        })
        .expect("J1, told on 3-02 at 10:00 Beijing time");
    assert_eq!(
        date_time(&first[column(Sheet::Jobs, "承诺办结日期")]).date(),
        day(3, 3)
    );
    assert_eq!(
        date_time(&first[column(Sheet::Jobs, "办结时间")]),
        day(3, 3).and_hms_opt(12, 0, 0).unwrap()
    );
    assert_eq!(text(&first[column(Sheet::Jobs, "评价")]), "好评");
    assert_eq!(text(&first[column(Sheet::Jobs, "服务事项")]), "养老认证");
    assert_eq!(
        text(&first[column(Sheet::Jobs, "身份证号")]),
        "610522********002X"
    );

    // Every step, with when and who: J1 5, J2 5, J3 2, J4 1, J5 5, 东王村 5, 孝义村 2.
    let steps = sheet(&book, Sheet::Steps);
    assert_eq!(steps.len(), 1 + 25);
    let rated = steps
        .iter()
        .find(|r| {
            text(&r[column(Sheet::Steps, "步骤")]) == "评价"
                && text(&r[column(Sheet::Steps, "说明")]).starts_with("差评")
        })
        .unwrap();
    assert_eq!(text(&rated[column(Sheet::Steps, "经办人")]), "杜娜");
    assert_eq!(text(&rated[column(Sheet::Steps, "角色")]), "代办员");
    assert_eq!(
        date_time(&rated[column(Sheet::Steps, "时间（手机记录）")]),
        day(3, 21).and_hms_opt(10, 0, 0).unwrap()
    );

    // The header is frozen and the columns have widths.
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut xml = String::new();
    archive
        .by_name("xl/worksheets/sheet2.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    assert!(
        xml.contains(r#"ySplit="1""#) && xml.contains(r#"state="frozen""#),
        "{xml:.400}"
    );
    assert!(
        xml.contains("<col ") && xml.contains("customWidth=\"1\""),
        "{xml:.400}"
    );
}

#[test]
fn a_full_export_keeps_identity_numbers_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let state = loaded(&dir);
    let request = ExportRequest {
        villages: vec![V1.to_string()],
        format: Format::Xlsx,
        numbers: Numbers::Full,
    };
    let book = read_xlsx(&write(&state, &dir, &request));
    let members = sheet(&book, Sheet::Members);
    assert_eq!(members.len(), 1 + 2, "三兴村 only");
    let zhang = members
        .iter()
        .find(|r| text(&r[column(Sheet::Members, "姓名")]) == "张桂兰")
        .unwrap();
    assert_eq!(
        zhang[column(Sheet::Members, "身份证号")],
        Data::String(ZHANG_ID.into())
    );
    assert_eq!(
        zhang[column(Sheet::Members, "联系电话")],
        Data::String("13800138000".into())
    );
}

#[test]
fn a_csv_starts_with_the_byte_order_mark_and_holds_one_table() {
    let dir = tempfile::tempdir().unwrap();
    let state = loaded(&dir);
    let request = ExportRequest {
        villages: all(),
        format: Format::Csv(Sheet::Members),
        numbers: Numbers::Masked,
    };
    let bytes = std::fs::read(write(&state, &dir, &request)).unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(headers[4], "身份证号");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4, "张桂兰, 张明, 李秀英, 王五");
    let zhang = rows.iter().find(|r| &r[3] == "张桂兰").unwrap();
    assert_eq!(&zhang[4], "610522********002X");
    assert_eq!(&zhang[5], "138****8000");

    let jobs = ExportRequest {
        format: Format::Csv(Sheet::Steps),
        ..request
    };
    let text = String::from_utf8(std::fs::read(write(&state, &dir, &jobs)).unwrap()).unwrap();
    assert!(text.contains("2026-03-21 10:00"), "times in Beijing time");
    assert_eq!(text.lines().count(), 1 + 25);
}

#[test]
fn the_full_export_permission_is_granted_revoked_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let state = loaded(&dir);
    let storage = &state.storage;
    assert!(!storage.full_export_granted("town-staff-1").unwrap());
    storage.set_full_export("town-staff-1", true).unwrap();
    assert!(storage.full_export_granted("town-staff-1").unwrap());
    storage.set_full_export("town-staff-1", false).unwrap();
    assert!(!storage.full_export_granted("town-staff-1").unwrap());
    assert!(storage.set_full_export("nobody", true).is_err());
    let audit = storage.audit_log().unwrap();
    let grants: Vec<&str> = audit
        .iter()
        .filter(|e| e.action == "export-permission")
        .map(|e| e.detail.as_str())
        .collect();
    assert_eq!(
        grants,
        [
            "开通完整导出权限：town-staff-1",
            "收回完整导出权限：town-staff-1"
        ]
    );
    assert_eq!(storage.villages_under("sanzhang").unwrap(), vec![V1, V2]);
    assert_eq!(storage.household_count(&[V2.to_string()]).unwrap(), 1);
}

/// An export's life as the console lists it: running with its progress, then done with its
/// file in chunks that read back byte for byte; or failed with its reason. Only the one who
/// asked sees it.
#[test]
fn an_export_is_listed_with_its_progress_and_its_file_reads_back() {
    use doorstep_sync_server::storage::{ExportState, NewExport};
    let dir = tempfile::tempdir().unwrap();
    let state = loaded(&dir);
    let storage = &state.storage;
    storage
        .set_password("town-staff-1", "hub-staff-password-1", chrono::Utc::now())
        .unwrap();
    let (_, session) = storage
        .sign_in(
            "town-staff-1",
            "hub-staff-password-1",
            "127.0.0.1",
            chrono::Utc::now(),
        )
        .unwrap();
    let new = |id: &'static str| NewExport {
        id,
        scope: "三张镇（全镇）",
        file_name: "家门口办-三张镇.xlsx",
        full_numbers: false,
        reason: None,
        total: 2,
        audit_detail: "脱敏导出 三张镇",
    };
    storage.start_export(&session, &new("e1")).unwrap();
    let state_of = |id: &str| {
        storage
            .export_of("town-staff-1", id)
            .unwrap()
            .map(|e| e.state)
    };
    assert_eq!(
        state_of("e1"),
        Some(ExportState::Running { done: 0, total: 2 })
    );
    storage.export_progress("e1", 1).unwrap();
    assert_eq!(
        state_of("e1"),
        Some(ExportState::Running { done: 1, total: 2 })
    );
    assert_eq!(
        storage.export_of("district-1", "e1").unwrap(),
        None,
        "not another's"
    );

    // A file of three and a half chunks comes back whole, a chunk at a time.
    let chunk = doorstep_sync_server::storage::exports::EXPORT_CHUNK_BYTES;
    let bytes: Vec<u8> = (0..chunk * 7 / 2).map(|i| (i % 251) as u8).collect();
    let file = dir.path().join("made.xlsx");
    std::fs::write(&file, &bytes).unwrap();
    storage.finish_export("e1", &file).unwrap();
    assert_eq!(
        state_of("e1"),
        Some(ExportState::Done {
            bytes: bytes.len() as i64
        })
    );
    let mut back = Vec::new();
    let mut seq = 0;
    while let Some(part) = storage.export_chunk("e1", seq).unwrap() {
        assert!(part.len() <= chunk);
        back.extend(part);
        seq += 1;
    }
    assert_eq!(seq, 4);
    assert_eq!(back, bytes);

    storage.start_export(&session, &new("e2")).unwrap();
    storage
        .fail_export("e2", "写导出文件出错：磁盘已满")
        .unwrap();
    assert_eq!(
        state_of("e2"),
        Some(ExportState::Failed("写导出文件出错：磁盘已满".into()))
    );
    let listed: Vec<String> = storage
        .exports_of("town-staff-1")
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(listed.len(), 2);
    let audited = storage
        .audit_log()
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "export")
        .count();
    assert_eq!(audited, 2);
}
