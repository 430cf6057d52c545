//! Fuzz `o2dms_chart::validate` with arbitrary bytes: it must never panic, never
//! inflate past its limits, and whatever it accepts must satisfy the documented
//! invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;
use o2dms_chart::{validate, validate_chart_name, Limits};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    match validate(data, &limits) {
        Ok(chart) => {
            assert!(validate_chart_name(&chart.name).is_ok());
            assert_eq!(chart.api_version, "v2");
            assert!(chart.values.is_object());
            assert!(chart.files.iter().any(|f| f == &format!("{}/Chart.yaml", chart.top_level_dir)));
            for f in &chart.files {
                assert!(f.starts_with(&format!("{}/", chart.top_level_dir)));
                assert!(!f.split('/').any(|c| c == ".." || c.is_empty() || c == "."));
            }
            assert!(chart.uncompressed_bytes <= limits.inflated_budget(data.len() as u64));
            assert_eq!(chart.digest.len(), 64);
        }
        Err(e) => {
            // Messages and fields must be producible for any input.
            let _ = e.to_string();
            assert!(matches!(e.field(), "archive" | "Chart.yaml" | "values.yaml"));
            let _ = e.code();
        }
    }
});
