//! The contract as data: every promise the `DmsAdapter` docs and the design make, one
//! sentence each. Every scenario names the promises it checks
//! ([`Scenario::covers`](crate::Scenario::covers)); `docs/conformance.md` prints the
//! coverage table, and a test fails while a promise has no scenario.

/// One promise of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Promise {
    /// A stable id, `area.what` (e.g. `create.timeout_leaves_failed`).
    pub id: &'static str,
    /// Where it is made: `trait` (the `DmsAdapter` docs), `model` (the data model) or
    /// `semantics` (the design's semantics every adapter honours).
    pub source: &'static str,
    /// The promise, one sentence.
    pub text: &'static str,
}

const fn p(id: &'static str, source: &'static str, text: &'static str) -> Promise {
    Promise { id, source, text }
}

/// Every promise, grouped by area, in the order the coverage table prints them.
pub const PROMISES: &[Promise] = &[
    // The trait as a whole.
    p("trait.not_found", "trait", "every operation answers NotFound for a missing deployment, revision, container or package, never another kind"),
    p("trait.not_found_names", "model", "a NotFound error names what is missing and which id"),
    p("trait.undeclared_refused", "trait", "an operation whose capability is not declared is refused with Unsupported naming the operation"),
    p("trait.concurrent_calls", "trait", "the adapter is safe to call concurrently: concurrent calls on different deployments all succeed independently"),
    p("trait.health", "trait", "health answers, and reports a working backend as healthy"),
    p("trait.info", "trait", "info names the adapter, its version and its backend"),
    // Create.
    p("create.ready", "semantics", "create installs the package and returns revision 1, Deployed, with the values, package and labels asked for"),
    p("create.timeout_leaves_failed", "semantics", "a create whose workload is not ready in time is Timeout, and the deployment stays, Failed, visible in get and list"),
    p("create.existing", "semantics", "creating an existing name is AlreadyExists and changes nothing"),
    p("create.package_missing", "trait", "creating from a package that does not exist is NotFound and leaves no deployment"),
    p("create.namespace_in_id", "model", "a deployment is identified by namespace and name: the same name in two namespaces is two deployments"),
    // Update.
    p("update.merge", "semantics", "update values merge deeply into the current ones by default; null removes a key"),
    p("update.replace", "semantics", "replacing the values is an explicit choice and leaves exactly the new values"),
    p("update.package", "semantics", "update can change the package (version) and keeps the values"),
    p("update.one_revision", "semantics", "each update makes exactly one new revision"),
    p("update.missing", "semantics", "updating a missing deployment is NotFound and creates nothing"),
    p("update.failed_recovers", "semantics", "a Failed deployment can be updated (the recovery path) and becomes Deployed"),
    // Scale.
    p("scale.key", "semantics", "scale sets the replica count through a values key: replicaCount by default, configurable per deployment and per call"),
    p("scale.keeps_values", "semantics", "scale keeps every other value"),
    p("scale.verified", "semantics", "scale is verified against the live workload: a package that ignores the key does not report success"),
    p("scale.zero", "semantics", "scaling to 0 is allowed"),
    p("scale.one_revision", "semantics", "a scale makes exactly one new revision"),
    // Rollback.
    p("rollback.new_revision", "semantics", "rollback to revision N makes a new revision whose package and values are revision N's"),
    p("rollback.previous", "semantics", "rollback without a revision returns to the previous one"),
    p("rollback.missing_revision", "semantics", "rollback to a revision that does not exist is NotFound and changes nothing"),
    p("rollback.current", "semantics", "rollback to the current revision is allowed and still makes a new revision"),
    // Delete.
    p("delete.removes", "semantics", "after delete, get is NotFound and list omits the deployment"),
    p("delete.every_read", "semantics", "after delete, every read of the deployment (get, status, history, logs) is NotFound"),
    p("delete.missing", "semantics", "deleting a missing deployment is NotFound"),
    p("delete.recreate", "semantics", "a deleted name can be created again, starting at revision 1"),
    // Timeouts.
    p("timeout.every_write", "semantics", "every write (create, update, scale, rollback) honours its timeout: Timeout, and the deployment stays, Failed"),
    p("timeout.reports_limit", "model", "a Timeout error names the operation and the limit that passed"),
    // Reads.
    p("reads.live_state", "semantics", "get, list, status and history show deployments that are pending, failing or being deleted: nothing is hidden"),
    p("reads.after_refused_write", "semantics", "a refused write (bad input, AlreadyExists, NotFound revision, Conflict) leaves get, status and history as they were"),
    p("reads.after_failed_write", "semantics", "after a write that failed or timed out, get and status say Failed and what happened"),
    p("reads.superseded_never_live", "model", "Superseded appears only on old revisions in history, never as a live deployment's status"),
    // Metadata.
    p("meta.labels", "model", "labels given at create are kept by get and list, and survive update, scale and rollback"),
    p("meta.description", "model", "the description given to a write is the description of the revision it makes"),
    p("meta.timestamps", "model", "created is when revision 1 was made and never moves; updated moves with every new revision; history times ascend"),
    // Status.
    p("status.detail", "model", "status reports progress 0-100 and replica counts from the live workloads"),
    p("status.agrees_with_get", "model", "status and get agree on the deployment's status"),
    // History.
    p("history.ascending", "trait", "history lists revisions ascending, each with its package, status, values and time"),
    p("history.one_current", "model", "only the newest revision is current; older ones are superseded (or failed)"),
    p("history.limit", "model", "a history limit returns the newest revisions, still ascending"),
    p("history.past_limit", "model", "a limit larger than the history returns all of it"),
    // List.
    p("list.order", "trait", "list is in a stable order: namespace, then name"),
    p("list.filters", "model", "namespace, status, label and package-name filters each keep exactly the matching deployments"),
    p("list.pages", "model", "pages with a limit and a continue token list every deployment once, with no gaps or repeats"),
    p("list.total", "model", "a page's total counts the whole result, never the page"),
    p("list.failed_and_pending", "trait", "list includes failed and pending deployments"),
    // Logs.
    p("logs.lines", "trait", "logs returns the lines of the deployment's workloads"),
    p("logs.own_only", "trait", "logs contain only lines of the deployment's own workloads, never another deployment's"),
    p("logs.options", "model", "every log option is honoured: container, tail lines, since and the byte limit (with truncated set)"),
    // Packages.
    p("packages.upload", "trait", "an uploaded package can be read back and its id installs"),
    p("packages.validated", "semantics", "upload validates the archive as untrusted input and refuses a bad one with InvalidArgument naming the problem"),
    p("packages.id_round_trip", "model", "the package id that list, get and upload return is the one create accepts"),
    p("packages.order", "trait", "packages are listed by name, then version in SemVer order (0.9.0 < 0.10.0; a pre-release before its release)"),
    p("packages.metadata", "model", "a package reports its name, version, source and a sha256 digest of its archive"),
    p("packages.in_use", "semantics", "deleting a package that a deployment uses is Conflict and keeps it"),
    p("packages.forced_delete", "trait", "a forced delete removes a package even while a deployment uses it, and the deployment keeps running"),
    p("packages.delete", "trait", "a deleted package is gone from get and list"),
    p("packages.expected", "model", "an upload's expected name and version are checked against the archive"),
    // Bad input.
    p("input.invalid_field", "semantics", "bad input anywhere is InvalidArgument naming the field, before anything is written"),
    p("input.bounds", "model", "every bounded field is accepted at its bound and refused just past it"),
    // Concurrency.
    p("concurrency.no_lost_update", "semantics", "two writes to one deployment at once never both apply to the same base revision: the loser gets Conflict or they are serialized"),
    p("concurrency.history_intact", "semantics", "concurrent writes never corrupt history: no gap, no repeat"),
    // Events.
    p("events.started_then_end", "model", "every mutating operation emits Started, then exactly one Succeeded or Failed, sharing one operation id"),
    p("events.failure_kind", "model", "an operation that fails after it started ends with Failed carrying the error kind"),
    p("events.revision", "model", "a Succeeded event of a deployment write carries the revision it made"),
];

/// Every promise (see [`PROMISES`]).
pub fn promises() -> &'static [Promise] {
    PROMISES
}
