//! Durations on the wire: JSON numbers of seconds, with a fraction for the sub-second part
//! (`1.5` is 1 s 500 ms).
//!
//! A duration goes out as one `f64` and comes back rounded to the nearest nanosecond, so it
//! round-trips exactly for every duration under 2^20 seconds (about 12 days), which covers
//! every timeout the core accepts (at most 24 h, [`MAX_TIMEOUT`](o2dms_core::validate::MAX_TIMEOUT)).
//! Longer durations come back within the precision of an `f64` (a few parts in 10^16).

use std::time::Duration;

use o2dms_core::Error;

/// `d` as seconds.
pub fn to_seconds(d: Duration) -> f64 {
    d.as_secs() as f64 + f64::from(d.subsec_nanos()) / 1e9
}

/// Seconds as a duration, rounded to the nearest nanosecond; InvalidArgument naming `field`
/// for a negative, non-finite or too large number.
pub fn from_seconds(field: &str, seconds: f64) -> Result<Duration, Error> {
    // NaN and the infinities are outside the range too
    if !(0.0..18_446_744_073_709_551_616.0).contains(&seconds) {
        return Err(Error::invalid(
            field,
            format!("must be a non-negative number of seconds (got {seconds})"),
        ));
    }
    let whole = seconds.trunc();
    let nanos = ((seconds - whole) * 1e9).round() as u32;
    let whole = whole as u64;
    Ok(if nanos >= 1_000_000_000 {
        Duration::new(whole.saturating_add(1), nanos - 1_000_000_000)
    } else {
        Duration::new(whole, nanos)
    })
}

/// [`to_seconds`] of an optional duration.
pub fn opt_to_seconds(d: Option<Duration>) -> Option<f64> {
    d.map(to_seconds)
}

/// [`from_seconds`] of an optional number.
pub fn opt_from_seconds(field: &str, seconds: Option<f64>) -> Result<Option<Duration>, Error> {
    seconds.map(|s| from_seconds(field, s)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_no_duration_holds() {
        for s in [-1.0, f64::NAN, f64::INFINITY, 1e30] {
            let e = from_seconds("timeoutSeconds", s).unwrap_err();
            assert!(
                matches!(e, Error::InvalidArgument { ref field, .. } if field == "timeoutSeconds")
            );
        }
        assert_eq!(from_seconds("t", 1.5).unwrap(), Duration::from_millis(1500));
        assert_eq!(from_seconds("t", 0.0).unwrap(), Duration::ZERO);
    }

    proptest::proptest! {
        #[test]
        fn exact_under_two_to_the_twenty_seconds(secs in 0u64..(1 << 20), nanos in 0u32..1_000_000_000) {
            let d = Duration::new(secs, nanos);
            let json = serde_json::to_string(&to_seconds(d)).unwrap();
            let back: f64 = serde_json::from_str(&json).unwrap();
            proptest::prop_assert_eq!(from_seconds("t", back).unwrap(), d);
        }
    }
}
