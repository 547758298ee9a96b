//! Reading an import file: UTF-8 CSV (a BOM allowed), separator `;` or `,` read from the
//! header line, RFC 4180 quoting, one header naming known columns in any order. Rows are
//! streamed: only what the caller keeps of each row stays in memory.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Seek};

use crate::store::RowError;
use crate::wire::experts_csv::unneutralise;

/// Row errors kept (the count goes on).
pub const MAX_ERRORS: usize = 1000;

/// Why a file cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum FileProblem {
    /// No header line.
    #[error("the file is empty")]
    Empty,
    /// More data rows than an import takes.
    #[error("the file has more than {0} rows; split it")]
    TooManyRows(usize),
    /// The header is wrong (every problem of it).
    #[error("the header is not valid")]
    Header(Vec<RowError>),
    /// The file could not be read.
    #[error("reading the file: {0}")]
    Io(#[from] std::io::Error),
}

/// What reading a file found: its data rows and the errors of its rows.
#[derive(Debug, Default)]
pub struct FileRows {
    /// Data rows read.
    pub records: u64,
    /// Row errors (the first [`MAX_ERRORS`]).
    pub errors: Vec<RowError>,
    /// Row errors in all.
    pub error_count: u64,
}

/// One data row: its cells by column name.
#[derive(Debug)]
pub struct Row<'r> {
    index: &'r HashMap<&'r str, usize>,
    cells: &'r [String],
}

impl<'r> Row<'r> {
    /// The trimmed cell of `column`, if the file has that column and the cell is not empty.
    pub fn cell(&self, column: &str) -> Option<&'r str> {
        let cells = self.cells;
        self.index
            .get(column)
            .map(|&i| cells[i].as_str())
            .filter(|c| !c.is_empty())
    }
}

fn row_error(row: u64, column: &str, detail: impl Into<String>) -> RowError {
    RowError {
        row,
        column: column.to_owned(),
        detail: detail.into(),
    }
}

/// Reads `file` as a CSV whose columns must be among `columns`, `required` present, at
/// most `max_rows` data rows; `on_row(row, data)` checks and keeps each row.
pub fn read_csv(
    mut file: std::fs::File,
    columns: &[&str],
    required: &[&str],
    max_rows: usize,
    mut on_row: impl FnMut(u64, &Row<'_>) -> Result<(), (String, String)>,
) -> Result<FileRows, FileProblem> {
    let mut bom = [0u8; 3];
    let n = file.read(&mut bom)?;
    if !(n == 3 && bom == [0xEF, 0xBB, 0xBF]) {
        file.rewind()?;
    }
    let mut reader = BufReader::new(file);
    let separator = {
        let head = reader.fill_buf()?;
        let line_end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
        if head[..line_end].contains(&b';') {
            b';'
        } else {
            b','
        }
    };
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(separator)
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    let mut record = csv::ByteRecord::new();
    if !csv.read_byte_record(&mut record).map_err(csv_error)? {
        return Err(FileProblem::Empty);
    }
    let header = read_header(&record, columns, required)?;
    let index: HashMap<&str, usize> = header
        .iter()
        .enumerate()
        .map(|(i, name)| (name.as_str(), i))
        .collect();
    let mut read = FileRows::default();
    let push = |read: &mut FileRows, error: RowError| {
        read.error_count += 1;
        if read.errors.len() < MAX_ERRORS {
            read.errors.push(error);
        }
    };
    let mut cells: Vec<String> = Vec::with_capacity(header.len());
    while csv.read_byte_record(&mut record).map_err(csv_error)? {
        read.records += 1;
        let row = read.records + 1;
        if usize::try_from(read.records).unwrap_or(usize::MAX) > max_rows {
            return Err(FileProblem::TooManyRows(max_rows));
        }
        if record.len() != header.len() {
            push(
                &mut read,
                row_error(
                    row,
                    "",
                    format!(
                        "has {} cells; the header has {}",
                        record.len(),
                        header.len()
                    ),
                ),
            );
            continue;
        }
        cells.clear();
        let mut utf8 = true;
        for (i, field) in record.iter().enumerate() {
            if let Ok(text) = std::str::from_utf8(field) {
                cells.push(unneutralise(text.trim()).to_owned());
            } else {
                push(&mut read, row_error(row, &header[i], "is not UTF-8"));
                utf8 = false;
                break;
            }
        }
        if !utf8 {
            continue;
        }
        let data = Row {
            index: &index,
            cells: &cells,
        };
        if let Err((column, detail)) = on_row(row, &data) {
            push(&mut read, row_error(row, &column, detail));
        }
    }
    Ok(read)
}

fn read_header(
    record: &csv::ByteRecord,
    columns: &[&str],
    required: &[&str],
) -> Result<Vec<String>, FileProblem> {
    let mut errors = Vec::new();
    let mut names = Vec::with_capacity(record.len());
    for field in record {
        let Ok(name) = std::str::from_utf8(field) else {
            errors.push(row_error(1, "", "the header is not UTF-8"));
            return Err(FileProblem::Header(errors));
        };
        let name = name.trim();
        if !columns.contains(&name) {
            errors.push(row_error(1, name, "unknown column"));
        } else if names.iter().any(|n| n == name) {
            errors.push(row_error(1, name, "column named twice"));
        }
        names.push(name.to_owned());
    }
    for column in required {
        if !names.iter().any(|n| n == column) {
            errors.push(row_error(1, column, "required column missing"));
        }
    }
    if errors.is_empty() {
        Ok(names)
    } else {
        Err(FileProblem::Header(errors))
    }
}

fn csv_error(err: csv::Error) -> FileProblem {
    match err.into_kind() {
        csv::ErrorKind::Io(err) => FileProblem::Io(err),
        other => FileProblem::Io(std::io::Error::other(format!("{other:?}"))),
    }
}
