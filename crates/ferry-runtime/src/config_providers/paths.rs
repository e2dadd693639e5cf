//! `allowed.paths` of the file and directory providers (Kafka's `AllowedPaths`).

use std::path::{Component, Path, PathBuf};

use super::ProviderError;

/// The directories a provider may read below; `None` allows every path.
#[derive(Debug, Clone, Default)]
pub struct AllowedPaths(Option<Vec<PathBuf>>);

impl AllowedPaths {
    /// Parses a comma-separated list of absolute, existing paths (empty: all allowed).
    pub fn parse(value: Option<&str>) -> Result<AllowedPaths, ProviderError> {
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            return Ok(AllowedPaths(None));
        };
        let mut paths = Vec::new();
        for p in value.split(',') {
            let p = normalize(Path::new(p));
            if !p.is_absolute() {
                return Err(ProviderError::Config(format!(
                    "Path {} is not absolute",
                    p.display()
                )));
            }
            if !p.exists() {
                return Err(ProviderError::Config(format!(
                    "Path {} does not exist",
                    p.display()
                )));
            }
            paths.push(p);
        }
        Ok(AllowedPaths(Some(paths)))
    }

    /// The path to read, or `None` when it lies outside every allowed path.
    pub fn check(&self, path: &str) -> Option<PathBuf> {
        match &self.0 {
            None => Some(PathBuf::from(path)),
            Some(allowed) => {
                let p = normalize(Path::new(path));
                allowed.iter().any(|a| p.starts_with(a)).then_some(p)
            }
        }
    }
}

/// `.` and `..` resolved lexically, as `java.nio.file.Path.normalize`.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_outside_the_allowed_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().to_str().unwrap();
        let allowed = AllowedPaths::parse(Some(base)).unwrap();
        assert!(allowed.check(&format!("{base}/secrets.properties")).is_some());
        assert!(allowed.check(&format!("{base}/../etc/passwd")).is_none());
        assert!(allowed.check("/etc/passwd").is_none());
        assert!(AllowedPaths::parse(None).unwrap().check("/etc/passwd").is_some());
        let e = AllowedPaths::parse(Some("relative/dir")).unwrap_err();
        assert_eq!(e.to_string(), "Path relative/dir is not absolute");
        let e = AllowedPaths::parse(Some("/no/such/ferry/dir")).unwrap_err();
        assert_eq!(e.to_string(), "Path /no/such/ferry/dir does not exist");
    }
}
