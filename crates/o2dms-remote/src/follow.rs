//! Writes: the answer of a write, and following its operation to the end when the server
//! answered 202.

use std::time::Duration;

use o2dms_api::paths;
use o2dms_api::wire::{self, OperationOccurrence, OperationState};
use o2dms_core::Error;
use reqwest::StatusCode;
use tokio::time::Instant;

use crate::transport::{Answer, Transport};

/// What a write ended with.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// A deployment (create, update, scale, rollback).
    Deployment(o2dms_core::Deployment),
    /// A package (upload).
    Package(o2dms_core::Package),
    /// Nothing (deletes).
    Done,
}

/// What a write's result must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    Deployment,
    Package,
    Nothing,
}

/// The outcome of a write's first answer: the final answer itself, or the operation it
/// started, followed to its end.
pub(crate) async fn outcome(
    transport: &Transport,
    dm: &str,
    answer: Answer,
    expect: Expect,
) -> Result<Outcome, Error> {
    match answer.status {
        StatusCode::ACCEPTED => {
            let occ: OperationOccurrence = answer.json()?;
            let done = follow(transport, dm, occ).await?;
            of_operation(done, expect)
        }
        StatusCode::NO_CONTENT if expect == Expect::Nothing => Ok(Outcome::Done),
        StatusCode::OK | StatusCode::CREATED => match expect {
            Expect::Deployment => {
                let d: wire::Deployment = answer.json()?;
                Ok(Outcome::Deployment(d.try_into().map_err(contract)?))
            }
            Expect::Package => {
                let p: wire::Package = answer.json()?;
                Ok(Outcome::Package(p.try_into().map_err(contract)?))
            }
            Expect::Nothing => Ok(Outcome::Done),
        },
        other => Err(Error::backend(format!(
            "the server answered a write with HTTP {other}, which the API does not use"
        ))),
    }
}

/// An answer whose content does not convert to the core type (an id the server should
/// never have sent): the server broke the contract.
pub(crate) fn contract(e: Error) -> Error {
    Error::backend(format!("the server's answer does not convert: {e}"))
}

/// The result of a final operation.
fn of_operation(occ: OperationOccurrence, expect: Expect) -> Result<Outcome, Error> {
    match occ.state {
        OperationState::Completed => match expect {
            Expect::Deployment => occ.into_deployment().map(Outcome::Deployment),
            Expect::Package => occ.into_package().map(Outcome::Package),
            Expect::Nothing => Ok(Outcome::Done),
        },
        OperationState::Failed | OperationState::FailedTemp | OperationState::RolledBack => {
            Err(match occ.error {
                Some(p) => p.into_error(),
                None => Error::unavailable(format!(
                    "operation {} ended {:?} without an error; its outcome is unknown",
                    occ.id, occ.state
                )),
            })
        }
        state => Err(Error::backend(format!(
            "operation {} is not over ({state:?})",
            occ.id
        ))),
    }
}

/// Whether the client stops following: final, or interrupted (`FAILED_TEMP`, which only
/// a person or a retry moves on).
fn stops(state: OperationState) -> bool {
    state.is_final() || state == OperationState::FailedTemp
}

/// Polls the operation until it stops, pausing from the first poll interval doubling up
/// to 1 s, for at most the follow limit.
async fn follow(
    transport: &Transport,
    dm: &str,
    mut occ: OperationOccurrence,
) -> Result<OperationOccurrence, Error> {
    let limits = transport.limits;
    let deadline = Instant::now() + limits.follow_limit;
    let mut pause = limits.poll_interval.max(Duration::from_millis(1));
    let path = paths::operation(dm, &occ.id);
    while !stops(occ.state) {
        if Instant::now() + pause > deadline {
            return Err(Error::timeout(
                occ.operation.to_string(),
                limits.follow_limit,
                format!(
                    "operation {} still {:?} on the server, which goes on with it",
                    occ.id, occ.state
                ),
            ));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(1));
        occ = transport.get(&path).await?;
    }
    Ok(occ)
}
