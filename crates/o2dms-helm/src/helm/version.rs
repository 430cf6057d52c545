//! Which helm this is: `helm version --template {{.Version}}`, parsed.

use o2dms_core::{Error, Result};

/// Major version of the helm binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HelmMajor {
    /// Helm 3.x
    V3,
    /// Helm 4.x
    V4,
}

impl HelmMajor {
    /// The major version number: 3 or 4.
    pub fn number(self) -> u32 {
        match self {
            HelmMajor::V3 => 3,
            HelmMajor::V4 => 4,
        }
    }
}

/// The detected helm version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelmVersion {
    /// Major version.
    pub major: HelmMajor,
    /// What `helm version --template {{.Version}}` printed, e.g. `v3.17.2`.
    pub raw: String,
}

impl HelmVersion {
    /// Parses `v3.17.2` / `v4.1.4` (with or without the `v`, with build suffixes).
    pub fn parse(text: &str) -> Result<HelmVersion> {
        let raw = text.trim().to_owned();
        let digits = raw.strip_prefix('v').unwrap_or(&raw);
        let major = digits.split('.').next().unwrap_or("");
        let major = match major {
            "3" => HelmMajor::V3,
            "4" => HelmMajor::V4,
            _ => {
                return Err(Error::unsupported(
                    "helm",
                    format!("helm {raw:?} is not supported (need 3.x or 4.x)"),
                ))
            }
        };
        Ok(HelmVersion { major, raw })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        assert_eq!(
            HelmVersion::parse("v3.17.2\n").unwrap().major,
            HelmMajor::V3
        );
        assert_eq!(HelmVersion::parse("v4.1.4").unwrap().major, HelmMajor::V4);
        assert_eq!(
            HelmVersion::parse("4.0.0-rc.1").unwrap().major,
            HelmMajor::V4
        );
        assert!(HelmVersion::parse("v2.17.0").is_err());
        assert!(HelmVersion::parse("").is_err());
    }
}
