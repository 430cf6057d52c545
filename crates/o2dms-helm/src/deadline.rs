//! Time bounds on reads of the Kubernetes API: a stopped or unreachable API server makes a
//! call Unavailable, naming the server, instead of hanging it.

use std::future::Future;
use std::time::Duration;

use o2dms_core::{Error, Result};

/// `read`, or Unavailable naming `server` when it has not finished within `limit`.
pub(crate) async fn within<T>(
    limit: Duration,
    server: &str,
    read: impl Future<Output = Result<T>>,
) -> Result<T> {
    match tokio::time::timeout(limit, read).await {
        Ok(result) => result,
        Err(_) => Err(Error::unavailable(format!(
            "{server} did not answer within {limit:?} (setting readTimeout)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_read_that_hangs_is_unavailable_naming_the_server() {
        let hang = std::future::pending::<Result<()>>();
        let e = within(
            Duration::from_secs(2),
            "the Kubernetes API server at https://k:6443",
            hang,
        )
        .await
        .unwrap_err();
        assert_eq!(e.kind(), o2dms_core::ErrorKind::Unavailable);
        assert!(e.to_string().contains("https://k:6443"), "{e}");
        assert_eq!(
            within(Duration::from_secs(2), "x", async { Ok(3) })
                .await
                .unwrap(),
            3
        );
    }
}
