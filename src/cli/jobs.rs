//! Where `amlip main` takes its jobs from besides its arguments and stdin: the lines of a file
//! (`--jobs-from FILE`), fixed-size chunks of a file (`--jobs-from FILE --split-bytes N`), or
//! the files of a directory (`--files DIR`, each solution then written beside its job as
//! `NAME.solution`). Jobs are bytes: nothing here assumes UTF-8.

use std::io;
use std::path::{Path, PathBuf};

/// The suffix of the solution files `--files` writes (and skips as jobs).
pub const SOLUTION_SUFFIX: &str = ".solution";

/// One job: its bytes, and the file it came from with `--files`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The job bytes.
    pub bytes: Vec<u8>,
    /// The job's file (`--files`): the solution goes to `<file>.solution`.
    pub file: Option<PathBuf>,
}

impl Job {
    fn bytes(bytes: Vec<u8>) -> Self {
        Job { bytes, file: None }
    }
}

/// Jobs known in advance: how many, and each in turn (a `--files` job is read when its turn
/// comes, so a large directory is not held in memory at once).
pub type Jobs = (usize, Box<dyn Iterator<Item = io::Result<Job>> + Send>);

/// The lines of `data`, without `\n` (and a `\r` before it); empty lines are skipped.
pub fn lines(data: &[u8]) -> Vec<Vec<u8>> {
    data.split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// The jobs of `--jobs-from file`: one per line, or chunks of `split` bytes (the last one
/// shorter) when given.
pub fn from_file(path: &Path, split: Option<usize>) -> io::Result<Jobs> {
    let data = std::fs::read(path)?;
    match split {
        Some(n) => {
            let n = n.max(1);
            let count = data.len().div_ceil(n);
            let it = (0..count).map(move |i| {
                let start = i.saturating_mul(n);
                let end = start.saturating_add(n).min(data.len());
                Ok(Job::bytes(data[start..end].to_vec()))
            });
            Ok((count, Box::new(it)))
        }
        None => {
            let l = lines(&data);
            Ok((l.len(), Box::new(l.into_iter().map(|b| Ok(Job::bytes(b))))))
        }
    }
}

/// The jobs of `--files dir`: one per regular file, by name; hidden files and earlier
/// `*.solution` files are skipped.
pub fn from_dir(dir: &Path) -> io::Result<Jobs> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.ends_with(SOLUTION_SUFFIX) || !e.file_type()?.is_file() {
            continue;
        }
        files.push(e.path());
    }
    files.sort();
    let it = files.into_iter().map(|f| {
        Ok(Job {
            bytes: std::fs::read(&f)?,
            file: Some(f),
        })
    });
    Ok((it.len(), Box::new(it)))
}

/// Where the solution of the job read from `file` goes.
pub fn solution_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_owned();
    name.push(SOLUTION_SUFFIX);
    file.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("amlip-jobs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn all(j: Jobs) -> Vec<Job> {
        let (n, it) = j;
        let v: Vec<Job> = it.map(Result::unwrap).collect();
        assert_eq!(v.len(), n);
        v
    }

    #[test]
    fn lines_drop_line_ends_and_empty_lines_and_keep_any_bytes() {
        assert_eq!(
            lines(b"a\r\n\nb\xff c\n\n"),
            [b"a".to_vec(), b"b\xff c".to_vec()]
        );
        assert!(lines(b"").is_empty());
    }

    #[test]
    fn a_file_gives_one_job_per_line_or_per_chunk() {
        let d = scratch("file");
        let f = d.join("in");
        std::fs::write(&f, b"one\ntwo\nthree").unwrap();
        let jobs: Vec<Vec<u8>> = all(from_file(&f, None).unwrap())
            .into_iter()
            .map(|j| j.bytes)
            .collect();
        assert_eq!(jobs, [&b"one"[..], b"two", b"three"]);
        let jobs: Vec<Vec<u8>> = all(from_file(&f, Some(5)).unwrap())
            .into_iter()
            .map(|j| j.bytes)
            .collect();
        assert_eq!(jobs, [&b"one\nt"[..], b"wo\nth", b"ree"]);
        assert!(from_file(&d.join("missing"), None).is_err());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_directory_gives_one_job_per_file_skipping_solutions_and_hidden_files() {
        let d = scratch("dir");
        std::fs::write(d.join("b.txt"), b"B").unwrap();
        std::fs::write(d.join("a.txt"), b"A").unwrap();
        std::fs::write(d.join("a.txt.solution"), b"old").unwrap();
        std::fs::write(d.join(".hidden"), b"h").unwrap();
        std::fs::create_dir(d.join("sub")).unwrap();
        let jobs = all(from_dir(&d).unwrap());
        assert_eq!(jobs.len(), 2);
        assert_eq!(jobs[0].bytes, b"A");
        assert_eq!(jobs[0].file.as_deref(), Some(d.join("a.txt").as_path()));
        assert_eq!(solution_path(&d.join("a.txt")), d.join("a.txt.solution"));
        let _ = std::fs::remove_dir_all(&d);
    }
}
