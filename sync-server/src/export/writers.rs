//! Writing export rows as they come, in flat memory: CSV (UTF-8 with a byte-order mark, so
//! Excel reads Chinese correctly) or an XLSX workbook in rust_xlsxwriter's constant-memory
//! mode (each worksheet's rows go to a temporary file as they are written). Text phones wrote
//! never runs in a spreadsheet: CSV cells that would start a formula are quoted (see
//! [`inert`]); XLSX cells are written as strings, which spreadsheets never evaluate.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use doorstep_core::time::shanghai;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::sheets::{Cell, Sheet};

/// Why writing an export failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The file could not be written.
    #[error("写导出文件出错：{0}")]
    Io(#[from] std::io::Error),
    /// The CSV writer failed.
    #[error("写 CSV 出错：{0}")]
    Csv(#[from] csv::Error),
    /// The XLSX writer failed.
    #[error("写 Excel 文件出错：{0}")]
    Xlsx(#[from] XlsxError),
}

/// Where export rows go.
pub trait RowSink {
    /// Writes one row of `sheet`.
    fn row(&mut self, sheet: Sheet, cells: &[Cell]) -> Result<(), WriteError>;
    /// Finishes the file.
    fn finish(self: Box<Self>) -> Result<(), WriteError>;
}

/// Text of an instant as people in the town read it.
fn beijing(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&shanghai())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A CSV cell's text as a spreadsheet shows it without running it: text that Excel or WPS
/// would read as a formula (starting with `=`, `+`, `-`, `@`, their full-width forms, a tab or
/// a carriage return) gets a leading `'`.
pub fn inert(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '＝' | '＋' | '－' | '＠' | '\t' | '\r') => {
            format!("'{text}").into()
        }
        _ => text.into(),
    }
}

/// One table as CSV.
pub struct CsvSink {
    sheet: Sheet,
    out: csv::Writer<BufWriter<File>>,
}

impl CsvSink {
    /// Starts `path` with the byte-order mark and `sheet`'s header.
    pub fn create(path: &Path, sheet: Sheet) -> Result<CsvSink, WriteError> {
        let mut file = BufWriter::new(File::create(path)?);
        file.write_all("\u{feff}".as_bytes())?;
        let mut out = csv::Writer::from_writer(file);
        out.write_record(sheet.columns().iter().map(|(header, _)| *header))?;
        Ok(CsvSink { sheet, out })
    }
}

impl RowSink for CsvSink {
    fn row(&mut self, sheet: Sheet, cells: &[Cell]) -> Result<(), WriteError> {
        if sheet != self.sheet {
            return Ok(());
        }
        let text = |cell: &Cell| match cell {
            Cell::Text(v) => inert(v).into_owned(),
            Cell::Int(v) => v.to_string(),
            Cell::Date(v) => v.map(|d| d.to_string()).unwrap_or_default(),
            Cell::Time(v) => v.map(beijing).unwrap_or_default(),
        };
        self.out.write_record(cells.iter().map(text))?;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), WriteError> {
        let mut file = self
            .out
            .into_inner()
            .map_err(|e| WriteError::Io(e.into_error()))?;
        file.flush()?;
        file.into_inner()
            .map_err(|e| WriteError::Io(e.into_error()))?
            .sync_all()?;
        Ok(())
    }
}

/// Every table as a worksheet of one workbook: header row bold and frozen, columns as wide as
/// their Chinese text, dates and times as spreadsheet dates, identity numbers as text.
pub struct XlsxSink {
    workbook: Workbook,
    path: std::path::PathBuf,
    /// The next row of each worksheet, in [`Sheet::ALL`] order.
    next_row: [u32; 5],
    date: Format,
    time: Format,
}

/// Rows a worksheet can hold (Excel's limit), header included.
const MAX_ROWS: u32 = 1_048_576;

impl XlsxSink {
    /// Starts a workbook to be saved at `path`, its temporary files in `temp_dir`.
    pub fn create(path: &Path, temp_dir: &Path) -> Result<XlsxSink, WriteError> {
        let mut workbook = Workbook::new();
        workbook.set_tempdir(temp_dir)?;
        let header = Format::new().set_bold().set_background_color("#E8EDF3");
        for sheet in Sheet::ALL {
            let ws = workbook.add_worksheet_with_constant_memory()?;
            ws.set_name(sheet.name())?;
            for (col, (title, width)) in sheet.columns().iter().enumerate() {
                ws.set_column_width(col as u16, *width)?;
                ws.write_string_with_format(0, col as u16, *title, &header)?;
            }
            ws.set_freeze_panes(1, 0)?;
        }
        Ok(XlsxSink {
            workbook,
            path: path.to_path_buf(),
            next_row: [1; 5],
            date: Format::new().set_num_format("yyyy-mm-dd"),
            time: Format::new().set_num_format("yyyy-mm-dd hh:mm"),
        })
    }

    fn write_cell(
        ws: &mut Worksheet,
        row: u32,
        col: u16,
        cell: &Cell,
        date: &Format,
        time: &Format,
    ) -> Result<(), XlsxError> {
        match cell {
            Cell::Text(v) if v.is_empty() => {}
            Cell::Text(v) => {
                ws.write_string(row, col, v)?;
            }
            Cell::Int(v) => {
                ws.write_number(row, col, *v as f64)?;
            }
            Cell::Date(Some(d)) => {
                ws.write_date_with_format(row, col, d, date)?;
            }
            Cell::Time(Some(at)) => {
                let local = at.with_timezone(&shanghai()).naive_local();
                ws.write_datetime_with_format(row, col, local, time)?;
            }
            Cell::Date(None) | Cell::Time(None) => {}
        }
        Ok(())
    }
}

impl RowSink for XlsxSink {
    fn row(&mut self, sheet: Sheet, cells: &[Cell]) -> Result<(), WriteError> {
        let index = Sheet::ALL
            .iter()
            .position(|s| *s == sheet)
            .expect("every sheet is in ALL");
        let row = self.next_row[index];
        if row >= MAX_ROWS {
            return Err(XlsxError::RowColumnLimitError.into());
        }
        let ws = self.workbook.worksheet_from_index(index)?;
        for (col, cell) in cells.iter().enumerate() {
            XlsxSink::write_cell(ws, row, col as u16, cell, &self.date, &self.time)?;
        }
        self.next_row[index] = row + 1;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), WriteError> {
        self.workbook.save(&self.path)?;
        File::open(&self.path)?.sync_all()?;
        Ok(())
    }
}
