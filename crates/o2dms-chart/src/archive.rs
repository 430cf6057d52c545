//! [`validate`]: one streaming pass over an untrusted chart archive, in memory.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashSet};
use std::io::{self, Read};

use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};
use tar::EntryType;

use crate::chart::{parse_chart_yaml, parse_values_yaml, ValidatedChart};
use crate::error::ArchiveError;
use crate::limits::Limits;

/// Longest single path component accepted (the common file-system limit).
const MAX_COMPONENT_BYTES: usize = 255;

/// Placeholder entry name for errors before the first entry.
const BEFORE_FIRST_ENTRY: &str = "<archive>";

/// Validates an untrusted chart archive (`.tgz`) held in memory.
///
/// One pass, nothing written to disk, nothing inflated past a limit: the gzip stream is
/// inflated through a meter that fails the read as soon as the inflated byte count
/// exceeds [`Limits::max_uncompressed_bytes`] or the compression-ratio bound, and each
/// tar header is checked before its data is read. Only `Chart.yaml` and `values.yaml`
/// of the chart directory are held in memory (each at most
/// [`Limits::max_file_bytes`]); other file data is streamed past.
///
/// The checks, in the order they apply:
/// 1. the upload's size ([`ArchiveError::CompressedTooLarge`]) and gzip magic
///    ([`ArchiveError::NotGzip`]);
/// 2. while streaming: inflated size and ratio ([`ArchiveError::UncompressedTooLarge`],
///    [`ArchiveError::CompressionRatio`]), gzip and tar integrity ([`ArchiveError::Gzip`],
///    [`ArchiveError::Tar`]);
/// 3. per entry: count, path (UTF-8, length, control characters, absolute, `..`,
///    backslashes), type (only regular files and directories; pax global headers are
///    skipped, pax and GNU long-name headers are applied by the tar reader), declared
///    size, duplicates, and the single top-level directory;
/// 4. after the stream: `<dir>/Chart.yaml` present and valid, `<dir>/values.yaml` (if
///    present) a YAML mapping.
///
/// The first problem found is returned; archive-level problems anywhere in the stream
/// take precedence over Chart.yaml and values.yaml problems.
///
/// ```
/// # fn archive() -> Vec<u8> {
/// #     let mut b = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), Default::default()));
/// #     let data = b"apiVersion: v2\nname: demo\nversion: 0.1.0\n";
/// #     let mut h = tar::Header::new_ustar();
/// #     h.set_size(data.len() as u64);
/// #     h.set_mode(0o644);
/// #     h.set_entry_type(tar::EntryType::Regular);
/// #     b.append_data(&mut h, "demo/Chart.yaml", &data[..]).unwrap();
/// #     b.into_inner().unwrap().finish().unwrap()
/// # }
/// let chart = o2dms_chart::validate(&archive(), &o2dms_chart::Limits::default())?;
/// assert_eq!(chart.name, "demo");
/// assert_eq!(chart.version.to_string(), "0.1.0");
/// # Ok::<(), o2dms_chart::ArchiveError>(())
/// ```
pub fn validate(bytes: &[u8], limits: &Limits) -> Result<ValidatedChart, ArchiveError> {
    let compressed = bytes.len() as u64;
    if compressed > limits.max_compressed_bytes {
        return Err(ArchiveError::CompressedTooLarge {
            size: compressed,
            limit: limits.max_compressed_bytes,
        });
    }
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Err(ArchiveError::NotGzip);
    }
    let digest = hex::encode(Sha256::digest(bytes));

    let meter = Meter::new(compressed, limits);
    let mut walk = Walk::new(limits, &meter);
    let reader = Metered {
        inner: MultiGzDecoder::new(bytes),
        meter: &meter,
    };
    let mut archive = tar::Archive::new(reader);
    let entries = archive.entries().map_err(|e| meter.classify(e))?;
    for entry in entries {
        let entry = entry.map_err(|e| meter.classify(e))?;
        walk.entry(entry)?;
    }
    // Inflate what follows the end-of-archive blocks too (still metered), so a bomb
    // cannot hide there unnoticed and the gzip checksum is verified.
    let mut rest = archive.into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(|e| meter.classify(e))?;

    walk.finish(digest, compressed, meter.inflated.get())
}

/// Why the meter stopped the stream.
#[derive(Debug, Clone, Copy)]
enum Breach {
    Total,
    Ratio,
}

/// Counts inflated bytes against the budget; shared by the reader and the walk.
struct Meter {
    compressed: u64,
    budget: u64,
    max_uncompressed: u64,
    max_ratio: u64,
    inflated: Cell<u64>,
    breach: Cell<Option<Breach>>,
    gzip_error: RefCell<Option<String>>,
    current_entry: RefCell<String>,
}

impl Meter {
    fn new(compressed: u64, limits: &Limits) -> Self {
        Meter {
            compressed,
            budget: limits.inflated_budget(compressed),
            max_uncompressed: limits.max_uncompressed_bytes,
            max_ratio: limits.max_ratio,
            inflated: Cell::new(0),
            breach: Cell::new(None),
            gzip_error: RefCell::new(None),
            current_entry: RefCell::new(BEFORE_FIRST_ENTRY.to_string()),
        }
    }

    /// Turns an I/O error out of the tar reader into the rule that caused it: a budget
    /// breach or a gzip error recorded by the meter, else a tar error.
    fn classify(&self, e: io::Error) -> ArchiveError {
        let entry = self.current_entry.borrow().clone();
        if let Some(b) = self.breach.get() {
            return match b {
                Breach::Total => ArchiveError::UncompressedTooLarge {
                    limit: self.max_uncompressed,
                    entry,
                },
                Breach::Ratio => ArchiveError::CompressionRatio {
                    inflated: self.budget,
                    compressed: self.compressed,
                    max_ratio: self.max_ratio,
                    entry,
                },
            };
        }
        if let Some(message) = self.gzip_error.borrow().clone() {
            return ArchiveError::Gzip { entry, message };
        }
        ArchiveError::Tar {
            entry,
            message: e.to_string(),
        }
    }
}

/// The inflating reader, cut off by the meter one byte past the budget.
struct Metered<'m, R> {
    inner: R,
    meter: &'m Meter,
}

impl<R: Read> Read for Metered<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let m = self.meter;
        if m.breach.get().is_some() {
            return Err(io::Error::other("inflation limit exceeded"));
        }
        // Never ask the decompressor for more than one byte past the budget.
        let room = m.budget.saturating_sub(m.inflated.get()).saturating_add(1);
        let want = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = match self.inner.read(&mut buf[..want]) {
            Ok(n) => n,
            Err(e) => {
                m.gzip_error
                    .borrow_mut()
                    .get_or_insert_with(|| e.to_string());
                return Err(e);
            }
        };
        let total = m.inflated.get() + n as u64;
        m.inflated.set(total);
        if total > m.budget {
            m.breach.set(Some(if m.budget >= m.max_uncompressed {
                Breach::Total
            } else {
                Breach::Ratio
            }));
            return Err(io::Error::other("inflation limit exceeded"));
        }
        Ok(n)
    }
}

/// What the walk over the entries has seen so far.
struct Walk<'a> {
    limits: &'a Limits,
    meter: &'a Meter,
    count: u64,
    top: Option<String>,
    files: Vec<String>,
    file_digests: BTreeMap<String, String>,
    seen: HashSet<String>,
    chart_yaml: Option<(String, Vec<u8>)>,
    values_yaml: Option<(String, Vec<u8>)>,
}

impl<'a> Walk<'a> {
    fn new(limits: &'a Limits, meter: &'a Meter) -> Self {
        Walk {
            limits,
            meter,
            count: 0,
            top: None,
            files: Vec::new(),
            file_digests: BTreeMap::new(),
            seen: HashSet::new(),
            chart_yaml: None,
            values_yaml: None,
        }
    }

    fn set_current(&self, path: &str) {
        let mut cur = self.meter.current_entry.borrow_mut();
        cur.clear();
        cur.push_str(path);
    }

    fn entry<R: Read>(&mut self, mut entry: tar::Entry<'_, R>) -> Result<(), ArchiveError> {
        let raw = entry.path_bytes().into_owned();
        let shown = display_bytes(&raw);
        self.set_current(&shown);

        self.count += 1;
        if self.count > self.limits.max_entries {
            return Err(ArchiveError::TooManyEntries {
                path: shown,
                limit: self.limits.max_entries,
            });
        }
        let kind = entry.header().entry_type();
        if kind == EntryType::XGlobalHeader {
            // pax global headers (written by `git archive`, for one) carry no file.
            return Ok(());
        }

        let path = check_path(&raw, self.limits.max_path_bytes)?;

        let link = |e: &tar::Entry<'_, R>| {
            e.link_name_bytes()
                .map(|b| display_bytes(&b))
                .unwrap_or_default()
        };
        match kind {
            EntryType::Regular | EntryType::Directory => {}
            EntryType::Symlink => {
                return Err(ArchiveError::Symlink {
                    target: link(&entry),
                    path: shown,
                })
            }
            EntryType::Link => {
                return Err(ArchiveError::HardLink {
                    target: link(&entry),
                    path: shown,
                })
            }
            other => {
                return Err(ArchiveError::SpecialEntry {
                    path: shown,
                    kind: special_kind(other),
                })
            }
        }

        let size = entry.size();
        if size > self.limits.max_file_bytes {
            return Err(ArchiveError::FileTooLarge {
                path: shown,
                size,
                limit: self.limits.max_file_bytes,
            });
        }

        let is_dir = kind == EntryType::Directory;
        let components: Vec<&str> = path.split('/').collect();
        let Some(&top) = components.first().filter(|c| !c.is_empty()) else {
            // `./` or an empty name: the archive root itself.
            if is_dir {
                return Ok(());
            }
            return Err(ArchiveError::InvalidPath {
                path: shown,
                reason: "a file must have a name".to_string(),
            });
        };
        if !is_dir && components.len() == 1 {
            return Err(ArchiveError::NotInTopLevelDirectory { path: shown });
        }
        match &self.top {
            None => self.top = Some(top.to_string()),
            Some(first) if first != top => {
                return Err(ArchiveError::MultipleTopLevelDirectories {
                    first: first.clone(),
                    path: shown,
                })
            }
            Some(_) => {}
        }
        if is_dir {
            return Ok(());
        }
        if !self.seen.insert(path.clone()) {
            return Err(ArchiveError::DuplicateEntry { path: shown });
        }

        let slot = match components[1..] {
            ["Chart.yaml"] => Some(&mut self.chart_yaml),
            ["values.yaml"] => Some(&mut self.values_yaml),
            _ => None,
        };
        let meter = self.meter;
        let digest = if let Some(slot) = slot {
            // Bounded by the declared size, which is at most max_file_bytes.
            let mut data = Vec::with_capacity(usize::try_from(size).unwrap_or(0).min(64 * 1024));
            entry
                .read_to_end(&mut data)
                .map_err(|e| meter.classify(e))?;
            let digest = hex::encode(Sha256::digest(&data));
            *slot = Some((path.clone(), data));
            digest
        } else {
            // Read through anyway (the stream must be inflated to reach the next entry).
            let mut hasher = Sha256::new();
            io::copy(&mut entry, &mut hasher).map_err(|e| meter.classify(e))?;
            hex::encode(hasher.finalize())
        };
        let relative = components[1..].join("/");
        self.file_digests.insert(relative, digest);
        self.files.push(path);
        Ok(())
    }

    fn finish(
        self,
        digest: String,
        compressed_bytes: u64,
        uncompressed_bytes: u64,
    ) -> Result<ValidatedChart, ArchiveError> {
        let Some(top) = self.top else {
            return Err(ArchiveError::Empty);
        };
        let Some((chart_path, chart_data)) = self.chart_yaml else {
            return Err(ArchiveError::MissingChartYaml {
                path: format!("{top}/Chart.yaml"),
            });
        };
        let meta = parse_chart_yaml(&chart_path, &chart_data)?;
        let values = match self.values_yaml {
            Some((path, data)) => parse_values_yaml(&path, &data)?,
            None => serde_json::Value::Object(serde_json::Map::new()),
        };
        Ok(ValidatedChart {
            name: meta.name,
            version: meta.version,
            app_version: meta.app_version,
            description: meta.description,
            kube_version: meta.kube_version,
            api_version: meta.api_version,
            chart_type: meta.chart_type,
            digest,
            values,
            files: self.files,
            file_digests: self.file_digests,
            top_level_dir: top,
            compressed_bytes,
            uncompressed_bytes,
        })
    }
}

/// A human name for an entry type that is neither a file nor a directory.
fn special_kind(t: EntryType) -> String {
    match t {
        EntryType::Char => "character device".to_string(),
        EntryType::Block => "block device".to_string(),
        EntryType::Fifo => "fifo".to_string(),
        EntryType::Continuous => "contiguous file".to_string(),
        EntryType::GNUSparse => "sparse file".to_string(),
        other => format!("entry of type {:?}", char::from(other.as_byte())),
    }
}

/// Lossy UTF-8 with control characters escaped, for messages.
fn display_bytes(b: &[u8]) -> String {
    display_str(&String::from_utf8_lossy(b))
}

fn display_str(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// Checks an entry path and returns it normalized: `/`-separated, without `.` or empty
/// components (and so without a trailing `/`).
fn check_path(raw: &[u8], max_len: usize) -> Result<String, ArchiveError> {
    let Ok(s) = std::str::from_utf8(raw) else {
        return Err(ArchiveError::NonUtf8Path {
            path: display_bytes(raw),
        });
    };
    let invalid = |reason: String| ArchiveError::InvalidPath {
        path: display_str(s),
        reason,
    };
    if s.is_empty() {
        return Err(invalid("empty path".to_string()));
    }
    if raw.len() > max_len {
        return Err(invalid(format!("longer than {max_len} bytes")));
    }
    if s.chars().any(char::is_control) {
        return Err(invalid("contains control characters".to_string()));
    }
    let b = s.as_bytes();
    let drive = b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':';
    if b[0] == b'/' || b[0] == b'\\' || drive {
        return Err(ArchiveError::AbsolutePath {
            path: s.to_string(),
        });
    }
    // Helm reads `\` as a separator in archives made on Windows, so `..` is looked for
    // between either kind.
    if s.split(['/', '\\']).any(|c| c == "..") {
        return Err(ArchiveError::PathTraversal {
            path: s.to_string(),
        });
    }
    if s.contains('\\') {
        return Err(invalid("contains a backslash".to_string()));
    }
    let parts: Vec<&str> = s
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    if let Some(long) = parts.iter().find(|c| c.len() > MAX_COMPONENT_BYTES) {
        return Err(invalid(format!(
            "component `{}...` is longer than {MAX_COMPONENT_BYTES} bytes",
            prefix(long, 32)
        )));
    }
    Ok(parts.join("/"))
}

/// At most `max` bytes of `s`, cut at a character boundary.
fn prefix(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(p: &str) -> &'static str {
        check_path(p.as_bytes(), 1024).unwrap_err().code()
    }

    #[test]
    fn paths() {
        assert_eq!(
            check_path(b"c/templates/a.yaml", 1024).unwrap(),
            "c/templates/a.yaml"
        );
        assert_eq!(check_path(b"./c//x/./y/", 1024).unwrap(), "c/x/y");
        assert_eq!(check_path(b"./", 1024).unwrap(), "");
        assert_eq!(code("/etc/passwd"), "absolute_path");
        assert_eq!(code("\\x"), "absolute_path");
        assert_eq!(code("C:/x"), "absolute_path");
        assert_eq!(code("../evil"), "path_traversal");
        assert_eq!(code("c/../../evil"), "path_traversal");
        assert_eq!(code("c\\..\\evil"), "path_traversal");
        assert_eq!(code("c/a\\b"), "invalid_path");
        assert_eq!(code("c/a\nb"), "invalid_path");
        assert_eq!(code(""), "invalid_path");
        assert_eq!(code(&format!("c/{}", "x".repeat(300))), "invalid_path");
        assert_eq!(
            check_path(&[b'c', b'/', 0xff], 1024).unwrap_err().code(),
            "non_utf8_path"
        );
        assert_eq!(
            check_path(&[b'c'; 20], 10).unwrap_err().code(),
            "invalid_path"
        );
        assert!(check_path(b"c/..x/y..", 1024).is_ok());
    }
}
