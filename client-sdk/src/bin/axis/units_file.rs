//! The unit files `axis directory import` reads, checked in full before anything connects:
//!
//! - **CSV** (`.csv`): UTF-8, a header naming the columns `id`, `name` (required), `parent`,
//!   `code_qd20` (optional) in any order, then one unit per line; RFC 4180 quoting (a field
//!   holding a comma, a quote or a line break is quoted, a quote inside doubled); LF or CRLF.
//! - **JSON** (`.json`): an array of objects with the string members `id`, `name`, and
//!   optionally `parent` and `code_qd20`; any other member is refused.
//!
//! Budgets: [`MAX_FILE_BYTES`], [`MAX_DIRECTORY_UNITS`] units, [`MAX_FIELD_BYTES`] per field
//! (a name is then at most 200 characters). Names are trimmed and normalised to NFC. A bad unit
//! refuses the whole file, naming its line, the field and why.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use axis_client::evidence::limits::MAX_DIRECTORY_UNITS;
use axis_client::evidence::{DirectoryError, RawUnit, Unit, UnitList};

/// Largest unit file read (the national directory is about 14 MB as CSV).
pub(crate) const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Longest field, in bytes, before the unit's own checks.
pub(crate) const MAX_FIELD_BYTES: usize = 1024;

/// Which format a file is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum UnitFormat {
    /// Comma-separated values with a header.
    Csv,
    /// A JSON array of objects.
    Json,
}

/// Reads and checks a unit file; `format` defaults to the file's extension.
pub(crate) fn read(path: &Path, format: Option<UnitFormat>) -> Result<UnitList> {
    let format = match format {
        Some(f) => f,
        None => match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("csv") => UnitFormat::Csv,
            Some(e) if e.eq_ignore_ascii_case("json") => UnitFormat::Json,
            _ => bail!(
                "{}: say --format csv or --format json (the name ends in neither .csv nor .json)",
                path.display()
            ),
        },
    };
    let len = std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    if len > MAX_FILE_BYTES {
        bail!(
            "{}: {len} bytes; a unit file is at most {MAX_FILE_BYTES} bytes",
            path.display()
        );
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| anyhow::anyhow!("{}: not UTF-8 (byte {})", path.display(), e.valid_up_to()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rows = match format {
        UnitFormat::Csv => csv_rows(text),
        UnitFormat::Json => json_rows(text),
    }
    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    check(rows).map_err(|e| anyhow::anyhow!("{}: {e}; nothing was imported", path.display()))
}

/// The units with the line each starts on, checked one by one and then as a whole.
pub(crate) fn check(rows: Vec<(usize, RawUnit)>) -> std::result::Result<UnitList, String> {
    if rows.len() > MAX_DIRECTORY_UNITS {
        return Err(format!(
            "{} units; a directory holds at most {MAX_DIRECTORY_UNITS}",
            rows.len()
        ));
    }
    let line = |position: usize| rows.get(position).map_or(0, |r| r.0);
    let unit_error = |e: &axis_client::evidence::UnitError| {
        format!(
            "line {}: {}: {} ({})",
            line(e.position),
            e.field,
            e.problem,
            e.id
        )
    };
    let mut units = Vec::with_capacity(rows.len());
    for (position, (_, raw)) in rows.iter().enumerate() {
        units.push((
            position,
            Unit::parse_lenient(raw, position).map_err(|e| unit_error(&e))?,
        ));
    }
    UnitList::new(units).map_err(|e| match e {
        DirectoryError::Unit(u) => unit_error(&u),
        e => e.to_string(),
    })
}

fn field_checked(line: usize, name: &str, v: String) -> std::result::Result<String, String> {
    if v.len() > MAX_FIELD_BYTES {
        return Err(format!(
            "line {line}: {name}: {} bytes; a field is at most {MAX_FIELD_BYTES}",
            v.len()
        ));
    }
    Ok(v)
}

/// RFC 4180 records: each with the line it starts on.
fn csv_records(text: &str) -> std::result::Result<Vec<(usize, Vec<String>)>, String> {
    let mut records = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while chars.peek().is_some() {
        let start = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut was_quoted = false;
        loop {
            let Some(c) = chars.next() else {
                if quoted {
                    return Err(format!("line {start}: a quoted field is not closed"));
                }
                fields.push(std::mem::take(&mut field));
                break;
            };
            if c == '\n' {
                line += 1;
            }
            if quoted {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        field.push('"');
                    } else {
                        quoted = false;
                    }
                } else {
                    field.push(c);
                }
                continue;
            }
            match c {
                '"' if field.is_empty() && !was_quoted => {
                    quoted = true;
                    was_quoted = true;
                }
                '"' => return Err(format!("line {line}: a quote inside an unquoted field")),
                ',' => {
                    fields.push(std::mem::take(&mut field));
                    was_quoted = false;
                }
                '\r' if chars.peek() == Some(&'\n') => {}
                '\n' => {
                    fields.push(std::mem::take(&mut field));
                    break;
                }
                c if was_quoted => {
                    return Err(format!("line {line}: `{c}` after a quoted field"));
                }
                c => field.push(c),
            }
        }
        if fields.len() == 1 && fields[0].is_empty() {
            continue; // a blank line
        }
        if records.len() > MAX_DIRECTORY_UNITS {
            return Err(format!("more than {MAX_DIRECTORY_UNITS} units"));
        }
        records.push((start, fields));
    }
    Ok(records)
}

fn csv_rows(text: &str) -> std::result::Result<Vec<(usize, RawUnit)>, String> {
    let records = csv_records(text)?;
    let mut records = records.into_iter();
    let Some((_, header)) = records.next() else {
        return Err(
            "empty: a CSV unit file starts with the header `id,name,parent,code_qd20`".into(),
        );
    };
    let mut columns = [None; 4];
    for (i, h) in header.iter().enumerate() {
        let slot = match h.trim() {
            "id" => 0,
            "name" => 1,
            "parent" => 2,
            "code_qd20" => 3,
            other => {
                return Err(format!(
                    "line 1: unknown column `{}`: the columns are id, name, parent, code_qd20",
                    other.chars().take(40).collect::<String>()
                ));
            }
        };
        if columns[slot].replace(i).is_some() {
            return Err(format!("line 1: column `{}` given twice", h.trim()));
        }
    }
    if columns[0].is_none() || columns[1].is_none() {
        return Err("line 1: the header needs the columns id and name".into());
    }
    let mut rows = Vec::new();
    for (line, fields) in records {
        if fields.len() != header.len() {
            return Err(format!(
                "line {line}: {} fields; the header has {}",
                fields.len(),
                header.len()
            ));
        }
        let get = |slot: usize, name: &str| -> std::result::Result<String, String> {
            match columns[slot] {
                Some(i) => field_checked(line, name, fields[i].clone()),
                None => Ok(String::new()),
            }
        };
        rows.push((
            line,
            RawUnit {
                id: get(0, "id")?,
                name: get(1, "name")?,
                parent: get(2, "parent")?,
                code_qd20: get(3, "code_qd20")?,
            },
        ));
    }
    Ok(rows)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonUnit {
    id: String,
    name: String,
    #[serde(default)]
    parent: String,
    #[serde(default)]
    code_qd20: String,
}

fn json_rows(text: &str) -> std::result::Result<Vec<(usize, RawUnit)>, String> {
    let items: Vec<&serde_json::value::RawValue> = serde_json::from_str(text)
        .map_err(|e| format!("line {}: not a JSON array of units: {e}", e.line()))?;
    if items.len() > MAX_DIRECTORY_UNITS {
        return Err(format!(
            "{} units; a directory holds at most {MAX_DIRECTORY_UNITS}",
            items.len()
        ));
    }
    let base = text.as_ptr() as usize;
    let mut rows = Vec::with_capacity(items.len());
    let mut counted = (0usize, 1usize); // (offset, line) scanned so far
    for item in items {
        let offset = (item.get().as_ptr() as usize).saturating_sub(base);
        let newlines = text
            .get(counted.0..offset)
            .map_or(0, |s| s.bytes().filter(|b| *b == b'\n').count());
        counted = (offset, counted.1 + newlines);
        let line = counted.1;
        let u: JsonUnit =
            serde_json::from_str(item.get()).map_err(|e| format!("line {line}: {e}"))?;
        rows.push((
            line,
            RawUnit {
                id: field_checked(line, "id", u.id)?,
                name: field_checked(line, "name", u.name)?,
                parent: field_checked(line, "parent", u.parent)?,
                code_qd20: field_checked(line, "code_qd20", u.code_qd20)?,
            },
        ));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn refused_csv(text: &str, expected: &str) {
        let r = csv_rows(text).and_then(check);
        match r {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => assert!(e.contains(expected), "{e}\n expected: {expected}"),
        }
    }

    const HEAD: &str =
        "id,name,parent,code_qd20\n000.00.00.H53,Ủy ban nhân dân tỉnh Tây Ninh,,000.00.00.H53\n";

    #[test]
    fn csv_reads_quoted_fields_any_column_order_and_crlf() {
        let text = "name,id,parent\r\n\"UBND tỉnh, Tây Ninh\",000.00.00.H53,\r\n\"Sở \"\"Tư pháp\"\"\",000.00.01.H53,000.00.00.H53\r\n";
        let list = csv_rows(text).and_then(check).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list.units()[0].name, "UBND tỉnh, Tây Ninh");
        assert_eq!(list.units()[1].name, "Sở \"Tư pháp\"");
    }

    #[test]
    fn each_malformed_csv_row_names_its_line_field_and_reason() {
        refused_csv("", "starts with the header");
        refused_csv("id,name,city\n", "unknown column `city`");
        refused_csv("id,id,name\n", "given twice");
        refused_csv("name,parent\n", "needs the columns id and name");
        refused_csv(
            &format!("{HEAD}000.00.01.H53,Sở Y tế\n"),
            "line 3: 2 fields; the header has 4",
        );
        refused_csv(
            &format!("{HEAD}000.00.1.H53,Sở Y tế,000.00.00.H53,\n"),
            "line 3: id: agency id segment 3",
        );
        refused_csv(
            &format!("{HEAD}000.00.01.H53,,000.00.00.H53,\n"),
            "line 3: name: empty",
        );
        refused_csv(
            &format!("{HEAD}000.00.01.H53,Sở Y tế,000.00.09.H53,\n"),
            "line 3: parent: 000.00.09.H53 is not in the directory",
        );
        refused_csv(
            &format!("{HEAD}000.00.00.H53,Lần hai,,\n"),
            "line 3: id: listed twice",
        );
        refused_csv(
            &format!("{HEAD}000.00.01.H53,Sở Y tế,000.00.00.H53,H53\n"),
            "line 3: code_qd20",
        );
        refused_csv(
            &format!("{HEAD}000.00.01.H53,\"Sở Y tế,000.00.00.H53,\n"),
            "line 3: a quoted field is not closed",
        );
        refused_csv(
            &format!("{HEAD}000.00.01.H53,Sở \"Y\" tế,000.00.00.H53,\n"),
            "line 3: a quote inside an unquoted field",
        );
        let long = "x".repeat(MAX_FIELD_BYTES + 1);
        refused_csv(
            &format!("{HEAD}000.00.01.H53,{long},000.00.00.H53,\n"),
            "line 3: name: 1025 bytes",
        );
        // A unit after a multi-line quoted name is counted from its own first line.
        refused_csv(
            &format!(
                "{HEAD}000.00.01.H53,\"Sở\nY tế\",000.00.00.H53,\n000.00.02.H53,Sở X,000.00.08.H53,\n"
            ),
            "line 3: name: holds a control character",
        );
    }

    #[test]
    fn json_names_the_line_of_each_bad_unit() {
        let ok = "[\n {\"id\": \"000.00.00.H53\", \"name\": \"UBND\"},\n {\"id\": \"000.00.01.H53\", \"name\": \"Sở\", \"parent\": \"000.00.00.H53\"}\n]";
        assert_eq!(json_rows(ok).and_then(check).unwrap().len(), 2);
        let bad = ok.replace("000.00.01.H53", "000.00.01.H5");
        let e = json_rows(&bad).and_then(check).unwrap_err();
        assert!(e.starts_with("line 3: id: agency id segment 4"), "{e}");
        let extra = ok.replace("\"name\": \"Sở\"", "\"name\": \"Sở\", \"mail\": \"a@b\"");
        let e = json_rows(&extra).and_then(check).unwrap_err();
        assert!(e.starts_with("line 3: unknown field `mail`"), "{e}");
        let e = json_rows("{\"id\": 1}").unwrap_err();
        assert!(e.starts_with("line 1: not a JSON array of units"), "{e}");
    }

    #[test]
    fn the_generated_files_read_back_as_the_same_list() {
        let raw = axis_testkit::directory::generate(3000);
        let from_csv = csv_rows(&axis_testkit::directory::to_csv(&raw))
            .and_then(check)
            .unwrap();
        let from_json = json_rows(&axis_testkit::directory::to_json(&raw))
            .and_then(check)
            .unwrap();
        assert_eq!(from_csv, from_json);
        assert_eq!(from_csv.len(), 3000);
    }
}
