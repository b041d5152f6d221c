//! Ledger and job exports (台账导出) as CSV or XLSX: the households of some villages read a page
//! at a time from the server's copies of their documents and written row by row, so memory
//! stays flat however large the export grows.

pub mod sheets;
pub mod writers;

use std::collections::HashMap;
use std::path::Path;

use automerge::ActorId;
use doorstep_core::HouseholdDoc;

use crate::storage::{Storage, StorageError};
use sheets::{Numbers, Sheet};
use writers::{CsvSink, RowSink, WriteError, XlsxSink};

/// Households read per page.
const PAGE: i64 = 100;

/// The file an export makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One table as CSV.
    Csv(Sheet),
    /// Every table as a worksheet of one XLSX workbook.
    Xlsx,
}

impl Format {
    /// The format with this code: `xlsx`, or `csv-` and a table's code.
    pub fn from_code(code: &str) -> Option<Format> {
        match code {
            "xlsx" => Some(Format::Xlsx),
            other => other
                .strip_prefix("csv-")
                .and_then(Sheet::from_code)
                .map(Format::Csv),
        }
    }

    /// The file name's ending.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv(_) => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    /// What the file holds, in words.
    pub fn label(self) -> String {
        match self {
            Format::Csv(sheet) => format!("{}（CSV）", sheet.name()),
            Format::Xlsx => "户、成员、台账事项、办件、办理过程（Excel）".into(),
        }
    }
}

/// The HTTP content type of an export file with this ending.
pub fn content_type(extension: &str) -> &'static str {
    match extension {
        "csv" => "text/csv; charset=utf-8",
        _ => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
}

/// What to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRequest {
    /// The villages whose households it holds.
    pub villages: Vec<String>,
    /// The file.
    pub format: Format,
    /// Whether identity and phone numbers are masked.
    pub numbers: Numbers,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the server's data failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A stored household could not be read.
    #[error("读取户 {household} 出错：{reason}")]
    Household {
        /// The household.
        household: String,
        /// Why.
        reason: String,
    },
    /// Writing the file failed.
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExportSummary {
    /// Households written.
    pub households: i64,
    /// Jobs written.
    pub jobs: i64,
}

/// Writes `request`'s export to `path` (temporary files of the workbook in `temp_dir`),
/// village by village in the order given, calling `progress` with the households written so
/// far after every page.
pub fn write(
    storage: &Storage,
    request: &ExportRequest,
    path: &Path,
    temp_dir: &Path,
    mut progress: impl FnMut(i64) -> Result<(), StorageError>,
) -> Result<ExportSummary, ExportError> {
    let names: HashMap<String, String> = storage.region_names()?.into_iter().collect();
    let mut sink: Box<dyn RowSink> = match request.format {
        Format::Csv(sheet) => Box::new(CsvSink::create(path, sheet)?),
        Format::Xlsx => Box::new(XlsxSink::create(path, temp_dir)?),
    };
    let sheets: Vec<Sheet> = match request.format {
        Format::Csv(sheet) => vec![sheet],
        Format::Xlsx => Sheet::ALL.to_vec(),
    };
    let mut summary = ExportSummary::default();
    // Village by village, so that each village's rows stand together.
    for village_id in &request.villages {
        let village = names.get(village_id).unwrap_or(village_id);
        let mut after: Option<String> = None;
        loop {
            let page =
                storage.documents_page(std::slice::from_ref(village_id), after.as_deref(), PAGE)?;
            let Some((last, _)) = page.last() else { break };
            after = Some(last.clone());
            for (id, bytes) in page {
                let data = HouseholdDoc::load_trusted(&bytes, ActorId::random())
                    .and_then(|doc| doc.read())
                    .map_err(|e| ExportError::Household {
                        household: id.clone(),
                        reason: e.to_string(),
                    })?;
                for sheet in &sheets {
                    for row in sheets::rows(*sheet, &data, village, request.numbers) {
                        sink.row(*sheet, &row)?;
                    }
                }
                summary.households += 1;
                summary.jobs += data.jobs.len() as i64;
            }
            progress(summary.households)?;
        }
    }
    sink.finish()?;
    Ok(summary)
}
