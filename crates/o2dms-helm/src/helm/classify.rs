//! Turning helm's stderr into a typed error kind.
//!
//! helm exits 1 on every error, so the only signal is the text. The phrases below were
//! captured from helm 3.17.2 and 4.1.4 (see the tests); matching is case-insensitive
//! because Helm 4 lower-cased some messages ("kubernetes cluster unreachable") and
//! reworded others ("cannot reuse a name"). Order matters: a refusal by the API server's
//! RBAC wins over everything (helm prints it inside whatever step it was taking), then a
//! lock conflict or an unreachable cluster wins over the words that may follow them.

use o2dms_core::{ErrorKind, Resource};

use super::scrub::Scrub;

/// The classification of one failed helm run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HelmFailure {
    /// The error kind.
    pub(crate) kind: ErrorKind,
    /// For NotFound: what was missing (a release or one of its revisions).
    pub(crate) resource: Option<Resource>,
    /// helm's message without log lines and the `Error: ` prefix, values scrubbed.
    pub(crate) message: String,
}

/// The API server's RBAC refusal, which helm prints verbatim inside its own message:
/// `<resource> ["<name>"] is forbidden: User "<user>" cannot <verb> resource "<r>" ...`
/// (lower-cased here). Other `is forbidden:` refusals (a quota, an admission plugin, a
/// terminating namespace) name no user and are not a missing right.
fn rbac_forbidden(hay: &str) -> bool {
    hay.split("is forbidden: user \"")
        .skip(1)
        .any(|rest| rest.contains("\" cannot "))
}

const CONFLICT: &[&str] = &[
    "another operation (install/upgrade/rollback) is in progress",
    "the object has been modified; please apply your changes",
    "exists and cannot be imported into the current release",
    "invalid ownership metadata",
];

const UNAVAILABLE: &[&str] = &[
    "kubernetes cluster unreachable",
    "cluster reachability check failed",
    "connection refused",
    "no such host",
    "i/o timeout",
    "tls handshake timeout",
    "connection reset by peer",
    "the server is currently unable to handle the request",
    "no route to host",
    "network is unreachable",
];

const TIMEOUT: &[&str] = &[
    "context deadline exceeded",
    "timed out waiting",
    "timed out",
];

/// Helm's storage refusing to create a revision's record that another writer created a
/// moment before: two writers raced past helm's own pending check. For an install the
/// release now exists; for an upgrade or rollback the other writer won.
const RECORD_EXISTS: &str = "release: already exists";

/// A release record that vanished under helm: another writer's `--history-max` pruned it
/// while this one was still reading the history (`secrets "sh.helm.release.v1.web.v1"
/// not found`).
fn record_vanished(hay: &str) -> bool {
    hay.split("secrets \"sh.helm.release.v1.")
        .skip(1)
        .any(|rest| {
            rest.split_once('"')
                .is_some_and(|(_, after)| after.starts_with(" not found"))
        })
}

const ALREADY_EXISTS: &[&str] = &[
    "cannot re-use a name that is still in use",
    "cannot reuse a name that is still in use",
];

const NOT_FOUND: &[&str] = &[
    "release: not found",
    "has no deployed releases",
    "release not loaded",
];

const INVALID: &[&str] = &[
    "parse error",
    "template: ",
    "executing \"",
    "nil pointer evaluating",
    "yaml parse error",
    "error converting yaml to json",
    "failed to parse",
    "values don't meet the specifications",
    "chart requires kubeversion",
    "chart.yaml file is missing",
    "validation: chart.metadata",
    "unable to build kubernetes objects",
    "no matches for kind",
    "error validating",
    "is invalid:",
    "unknown field",
    "failed parsing --set",
    "not a valid chart",
    "chart not found",
    "apiversion is required",
    "unsupported chart",
    "execution error at",
    "wrong type for value",
    "error unmarshaling json",
    "cannot load values.yaml",
];

/// Strips Helm 4's structured log lines (`level=...`) and the `Error: ` prefix, replaces
/// every value of `scrub`, and then keeps at most 4000 bytes (scrubbing first: a value
/// cut in two at the limit would not be recognised).
pub(crate) fn helm_message(stderr: &str, scrub: &Scrub) -> String {
    let kept: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.trim_start().starts_with("level=") && !l.trim().is_empty())
        .map(|l| l.strip_prefix("Error: ").unwrap_or(l))
        .collect();
    let mut msg = scrub.apply(&kept.join("\n"));
    if msg.len() > 4000 {
        let mut cut = 4000;
        while !msg.is_char_boundary(cut) {
            cut -= 1;
        }
        msg.truncate(cut);
        msg.push_str("...");
    }
    if msg.is_empty() {
        "helm failed without a message".to_owned()
    } else {
        msg
    }
}

fn has_any(hay: &str, needles: &[&str]) -> bool {
    needles.iter().any(|n| hay.contains(n))
}

/// `release has no 9 version` (rollback to a revision that does not exist).
fn missing_revision(hay: &str) -> bool {
    hay.split("release has no ").skip(1).any(|rest| {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        !digits.is_empty() && rest[digits.len()..].starts_with(" version")
    })
}

/// Classifies helm's stderr with nothing to scrub (the captured messages of the tests).
#[cfg(test)]
pub(crate) fn classify(stderr: &str) -> HelmFailure {
    classify_scrubbed(stderr, &Scrub::default())
}

/// Classifies helm's stderr. Pure: no I/O, the same text always gives the same kind.
/// The kind is read from helm's own words (a value that happens to hold a phrase such as
/// `not found` is not hidden from the classifier); the message is scrubbed of `scrub`'s
/// values.
pub(crate) fn classify_scrubbed(stderr: &str, scrub: &Scrub) -> HelmFailure {
    let message = helm_message(stderr, scrub);
    let hay = stderr.to_ascii_lowercase();
    let (kind, resource) = if rbac_forbidden(&hay) {
        (ErrorKind::PermissionDenied, None)
    } else if has_any(&hay, CONFLICT) {
        (ErrorKind::Conflict, None)
    } else if has_any(&hay, UNAVAILABLE) {
        (ErrorKind::Unavailable, None)
    } else if has_any(&hay, TIMEOUT) {
        (ErrorKind::Timeout, None)
    } else if record_vanished(&hay) {
        return HelmFailure {
            kind: ErrorKind::Conflict,
            resource: None,
            message: format!(
                "another writer changed the release's records at the same moment; read the \
                 deployment and retry ({message})"
            ),
        };
    } else if hay.contains(RECORD_EXISTS) && !hay.contains("installation failed") {
        return HelmFailure {
            kind: ErrorKind::Conflict,
            resource: None,
            message: format!(
                "another writer made a new revision at the same moment; read the deployment \
                 and retry ({message})"
            ),
        };
    } else if has_any(&hay, ALREADY_EXISTS) || hay.contains(RECORD_EXISTS) {
        (ErrorKind::AlreadyExists, Some(Resource::Deployment))
    } else if missing_revision(&hay) {
        (ErrorKind::NotFound, Some(Resource::Revision))
    } else if has_any(&hay, NOT_FOUND) {
        (ErrorKind::NotFound, Some(Resource::Deployment))
    } else if has_any(&hay, INVALID) || hay.contains("path \"") && hay.contains("\" not found") {
        (ErrorKind::InvalidArgument, None)
    } else {
        (ErrorKind::Backend, None)
    };
    HelmFailure {
        kind,
        resource,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (helm version, what was done, stderr exactly as printed, expected kind)
    const CAPTURED: &[(&str, &str, &str, ErrorKind)] = &[
        ("3.17.2", "install over an existing release",
         "Error: INSTALLATION FAILED: cannot re-use a name that is still in use\n",
         ErrorKind::AlreadyExists),
        ("4.1.4", "install over an existing release",
         "level=ERROR msg=\"release name check failed\" error=\"cannot reuse a name that is still in use\"\nError: INSTALLATION FAILED: release name check failed: cannot reuse a name that is still in use\n",
         ErrorKind::AlreadyExists),
        ("3.17.2", "upgrade a missing release",
         "Error: UPGRADE FAILED: \"nope\" has no deployed releases\n", ErrorKind::NotFound),
        ("4.1.4", "upgrade a missing release",
         "Error: UPGRADE FAILED: \"nope\" has no deployed releases\n", ErrorKind::NotFound),
        ("3.17.2", "status/history/rollback of a missing release",
         "Error: release: not found\n", ErrorKind::NotFound),
        ("4.1.4", "status/history/rollback of a missing release",
         "Error: release: not found\n", ErrorKind::NotFound),
        ("3.17.2", "uninstall a missing release",
         "Error: uninstall: Release not loaded: nope: release: not found\n", ErrorKind::NotFound),
        ("4.1.4", "uninstall a missing release",
         "Error: uninstall: Release not loaded: nope: release: not found\n", ErrorKind::NotFound),
        ("3.17.2", "rollback to a missing revision",
         "Error: release has no 9 version\n", ErrorKind::NotFound),
        ("4.1.4", "rollback to a missing revision",
         "Error: release has no 9 version\n", ErrorKind::NotFound),
        ("3.17.2", "two installs of one name at once, the loser",
         "Error: INSTALLATION FAILED: release: already exists\n", ErrorKind::AlreadyExists),
        ("4.1.4", "two installs of one name at once, the loser",
         "Error: INSTALLATION FAILED: release: already exists\n", ErrorKind::AlreadyExists),
        ("3.17.2", "two upgrades at once, the loser",
         "Error: UPGRADE FAILED: release: already exists\n", ErrorKind::Conflict),
        ("4.1.4", "two upgrades at once, the loser",
         "Error: UPGRADE FAILED: release: already exists\n", ErrorKind::Conflict),
        ("3.17.2", "two rollbacks at once, the loser",
         "Error: release: already exists\n", ErrorKind::Conflict),
        ("4.1.4", "two rollbacks at once, the loser",
         "Error: release: already exists\n", ErrorKind::Conflict),
        ("4.1.4", "two upgrades at once, the winner pruning history (--history-max)",
         "Error: UPGRADE FAILED: secrets \"sh.helm.release.v1.web.v1\" not found\n",
         ErrorKind::Conflict),
        ("4.1.4", "two rollbacks at once, the winner pruning history",
         "Error: secrets \"sh.helm.release.v1.r4.v1\" not found\n", ErrorKind::Conflict),
        ("3.17.2", "upgrade while pending",
         "Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress\n",
         ErrorKind::Conflict),
        ("4.1.4", "upgrade while pending",
         "Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress\n",
         ErrorKind::Conflict),
        ("3.17.2", "install --wait timeout",
         "Error: INSTALLATION FAILED: context deadline exceeded\n", ErrorKind::Timeout),
        ("4.1.4", "install --wait timeout",
         "Error: INSTALLATION FAILED: resource Deployment/t4/w-webc not ready. status: InProgress, message: Replicas: 0/1\ncontext deadline exceeded\n",
         ErrorKind::Timeout),
        ("3.17.2", "upgrade --wait timeout",
         "Error: UPGRADE FAILED: context deadline exceeded\n", ErrorKind::Timeout),
        ("4.1.4", "upgrade --wait timeout",
         "level=WARN msg=\"upgrade failed\" name=a error=\"resource Deployment/t4/a-webc not ready. status: InProgress, message: Replicas: 0/1\\ncontext deadline exceeded\"\nError: UPGRADE FAILED: resource Deployment/t4/a-webc not ready. status: InProgress, message: Replicas: 0/1\ncontext deadline exceeded\n",
         ErrorKind::Timeout),
        ("3.17.2", "rollback --wait timeout",
         "Error: release a failed: context deadline exceeded\n", ErrorKind::Timeout),
        ("4.1.4", "rollback --wait timeout",
         "Error: release a failed: resource Deployment/t4/a-webc not ready. status: InProgress, message: Replicas: 0/1\ncontext deadline exceeded\n",
         ErrorKind::Timeout),
        ("3.17.2", "unreachable API server",
         "Error: Kubernetes cluster unreachable: Get \"https://127.0.0.1:1/version\": dial tcp 127.0.0.1:1: connect: connection refused\n",
         ErrorKind::Unavailable),
        ("4.1.4", "unreachable API server",
         "Error: kubernetes cluster unreachable: Get \"https://127.0.0.1:1/version\": dial tcp 127.0.0.1:1: connect: connection refused\n",
         ErrorKind::Unavailable),
        ("4.1.4", "install against an unreachable API server",
         "level=ERROR msg=\"cluster reachability check failed: kubernetes cluster unreachable: Get \\\"https://127.0.0.1:1/version\\\": dial tcp 127.0.0.1:1: connect: connection refused\"\nError: INSTALLATION FAILED: cluster reachability check failed: kubernetes cluster unreachable: Get \"https://127.0.0.1:1/version\": dial tcp 127.0.0.1:1: connect: connection refused\n",
         ErrorKind::Unavailable),
        ("3.17.2", "unknown kube context",
         "Error: Kubernetes cluster unreachable: context \"nosuch\" does not exist\n",
         ErrorKind::Unavailable),
        ("4.1.4", "missing kubeconfig",
         "Error: kubernetes cluster unreachable: stat /nonexist: no such file or directory\n",
         ErrorKind::Unavailable),
        ("3.17.2", "chart path missing",
         "Error: INSTALLATION FAILED: path \"/nonexist\" not found\n", ErrorKind::InvalidArgument),
        ("4.1.4", "chart path missing",
         "Error: INSTALLATION FAILED: path \"/nonexist\" not found\n", ErrorKind::InvalidArgument),
        ("3.17.2", "malformed values file",
         "Error: INSTALLATION FAILED: failed to parse /tmp/helmdev/bad.yaml: error converting YAML to JSON: yaml: line 1: did not find expected node content\n",
         ErrorKind::InvalidArgument),
        ("4.1.4", "malformed values file",
         "Error: INSTALLATION FAILED: failed to parse /tmp/helmdev/bad.yaml: cannot unmarshal yaml document: error converting YAML to JSON: yaml: line 1: did not find expected node content\n",
         ErrorKind::InvalidArgument),
        ("3.17.2", "template nil pointer",
         "Error: INSTALLATION FAILED: template: webc/templates/bad.yaml:1:10: executing \"webc/templates/bad.yaml\" at <.Values.nope.deeper>: nil pointer evaluating interface {}.deeper\n",
         ErrorKind::InvalidArgument),
        ("4.1.4", "template nil pointer",
         "Error: INSTALLATION FAILED: webc/templates/bad.yaml:1:10\n  executing \"webc/templates/bad.yaml\" at <.Values.nope.deeper>:\n    nil pointer evaluating interface {}.deeper\n",
         ErrorKind::InvalidArgument),
        ("3.17.2", "template syntax",
         "Error: INSTALLATION FAILED: parse error at (webc/templates/bad.yaml:1): missing value for if\n",
         ErrorKind::InvalidArgument),
        ("4.1.4", "template syntax",
         "Error: INSTALLATION FAILED: parse error at (webc/templates/bad.yaml:1): missing value for if\n",
         ErrorKind::InvalidArgument),
        ("3.17.2", "values schema",
         "Error: INSTALLATION FAILED: values don't meet the specifications of the schema(s) in the following chart(s):\nwebc:\n- replicaCount: Invalid type. Expected: integer, given: string\n\n",
         ErrorKind::InvalidArgument),
        ("4.1.4", "values schema",
         "Error: INSTALLATION FAILED: values don't meet the specifications of the schema(s) in the following chart(s):\nwebc:\n- at '/replicaCount': got string, want integer\n\n",
         ErrorKind::InvalidArgument),
        ("3.17.2", "kubeVersion constraint",
         "Error: INSTALLATION FAILED: chart requires kubeVersion: >=1.29.0 which is incompatible with Kubernetes v1.20.2\n",
         ErrorKind::InvalidArgument),
        ("4.1.4", "kubeVersion constraint",
         "Error: INSTALLATION FAILED: chart requires kubeVersion: >=1.29.0 which is incompatible with Kubernetes v1.20.2\n",
         ErrorKind::InvalidArgument),
        ("3.17.2", "rendered manifest is not YAML",
         "Error: INSTALLATION FAILED: YAML parse error on webc/templates/bad.yaml: error converting YAML to JSON: yaml: line 6: did not find expected node content\n",
         ErrorKind::InvalidArgument),
        ("4.1.4", "rendered manifest is not YAML",
         "Error: INSTALLATION FAILED: YAML parse error on webc/templates/bad.yaml: error converting YAML to JSON: yaml: line 6: did not find expected node content\n",
         ErrorKind::InvalidArgument),
        ("3.17.2", "resource owned by another release",
         "Error: INSTALLATION FAILED: Unable to continue with install: ServiceAccount \"a-webc\" in namespace \"t3\" exists and cannot be imported into the current release: invalid ownership metadata; annotation validation error: key \"meta.helm.sh/release-name\" must equal \"dup\": current value is \"a\"\n",
         ErrorKind::Conflict),
        ("4.1.4", "resource owned by another release",
         "Error: INSTALLATION FAILED: unable to continue with install: ServiceAccount \"a-webc\" in namespace \"t4\" exists and cannot be imported into the current release: invalid ownership metadata; annotation validation error: key \"meta.helm.sh/release-name\" must equal \"dup\": current value is \"a\"\n",
         ErrorKind::Conflict),
        ("3.17.2", "install with read-only rights (RBAC refuses a get of the chart's Service)",
         "Error: INSTALLATION FAILED: Unable to continue with install: could not get information about the resource Service \"web-web\" in namespace \"o2-pd-ro\": services \"web-web\" is forbidden: User \"system:serviceaccount:o2-pd-home:dms\" cannot get resource \"services\" in API group \"\" in the namespace \"o2-pd-ro\"\n",
         ErrorKind::PermissionDenied),
        ("4.1.4", "install with read-only rights (RBAC refuses a get of the chart's Service)",
         "Error: INSTALLATION FAILED: unable to continue with install: could not get information about the resource Service \"web-web\" in namespace \"o2-pd-ro\": services \"web-web\" is forbidden: User \"system:serviceaccount:o2-pd-home:dms\" cannot get resource \"services\" in API group \"\" in the namespace \"o2-pd-ro\"\n",
         ErrorKind::PermissionDenied),
        ("3.17.2", "reserved storage label",
         "Error: INSTALLATION FAILED: user supplied labels contains system reserved label name. System labels: [name owner status version createdAt modifiedAt]\n",
         ErrorKind::Backend),
    ];

    #[test]
    fn captured_stderr_of_both_versions() {
        for (version, what, stderr, kind) in CAPTURED {
            let f = classify(stderr);
            assert_eq!(f.kind, *kind, "helm {version}: {what}: {stderr}");
            assert!(!f.message.contains("level="), "{what}: {}", f.message);
            assert!(!f.message.starts_with("Error: "), "{what}");
        }
        let versions: std::collections::BTreeSet<_> = CAPTURED.iter().map(|c| c.0).collect();
        assert_eq!(versions.len(), 2, "both versions are covered");
    }

    #[test]
    fn rbac_refusals_name_the_action_and_other_refusals_are_not_rights() {
        for (version, what, stderr, kind) in CAPTURED {
            if *kind == ErrorKind::PermissionDenied {
                let f = classify(stderr);
                assert_eq!(
                    crate::kube_error::forbidden_action(&f.message).as_deref(),
                    Some("get services in namespace o2-pd-ro"),
                    "helm {version}: {what}"
                );
            }
        }
        // An RBAC refusal wins over words that follow it (`not found` in an RBAC reason).
        assert_eq!(
            classify("Error: UPGRADE FAILED: secrets is forbidden: User \"bob\" cannot create resource \"secrets\" in API group \"\" in the namespace \"ran\": RBAC: role.rbac.authorization.k8s.io \"dms\" not found\n").kind,
            ErrorKind::PermissionDenied
        );
        // `is forbidden` without a user lacking a right: a quota, a terminating namespace.
        for stderr in [
            "Error: INSTALLATION FAILED: pods \"p\" is forbidden: exceeded quota: compute-resources, requested: cpu=1, used: cpu=2, limited: cpu=2\n",
            "Error: INSTALLATION FAILED: create: failed to create: secrets \"sh.helm.release.v1.web.v1\" is forbidden: unable to create new content in namespace ran because it is being terminated\n",
        ] {
            assert_ne!(classify(stderr).kind, ErrorKind::PermissionDenied, "{stderr}");
        }
    }

    #[test]
    fn not_found_says_what_is_missing() {
        assert_eq!(
            classify("Error: release has no 9 version\n").resource,
            Some(Resource::Revision)
        );
        assert_eq!(
            classify("Error: release: not found\n").resource,
            Some(Resource::Deployment)
        );
        assert!(!missing_revision("release has no deployed version"));
    }

    #[test]
    fn messages_are_cleaned_and_bounded() {
        assert_eq!(
            helm_message(
                "level=WARN msg=x\nError: UPGRADE FAILED: boom\n",
                &Scrub::default()
            ),
            "UPGRADE FAILED: boom"
        );
        assert_eq!(
            helm_message("", &Scrub::default()),
            "helm failed without a message"
        );
        let long = "é".repeat(5000);
        let m = helm_message(&long, &Scrub::default());
        assert!(m.len() <= 4003 && m.ends_with("..."));
        assert_eq!(
            classify("Error: something unexpected\n").kind,
            ErrorKind::Backend
        );
    }

    #[test]
    fn values_are_scrubbed_and_the_kind_comes_from_helms_words() {
        let values: o2dms_core::Values = serde_json::from_value(serde_json::json!({
            "tier": "MARKER-7f3a secret with spaces!",
            "note": "not found",
        }))
        .unwrap();
        let scrub = Scrub::of([&values]);
        // The API server quotes the value (Helm 4 also logs it, escaped, on a level= line).
        let stderr = "level=WARN msg=\"upgrade failed\" error=\"ConfigMap \\\"m\\\" is invalid: metadata.labels: Invalid value: \\\"MARKER-7f3a secret with spaces!\\\"\"\n\
                      Error: INSTALLATION FAILED: ConfigMap \"m\" is invalid: metadata.labels: Invalid value: \"MARKER-7f3a secret with spaces!\": a valid label must be an empty string or consist of alphanumeric characters\n";
        let f = classify_scrubbed(stderr, &scrub);
        assert_eq!(f.kind, ErrorKind::InvalidArgument);
        assert!(!f.message.contains("MARKER"), "{}", f.message);
        assert!(
            f.message.contains("Invalid value: \"[redacted]\""),
            "{}",
            f.message
        );
        // A value holding a phrase the classifier knows does not change the kind, and is
        // still hidden.
        let f = classify_scrubbed(
            "Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress: not found\n",
            &scrub,
        );
        assert_eq!(f.kind, ErrorKind::Conflict);
        assert!(!f.message.contains("not found"), "{}", f.message);
    }

    #[test]
    fn a_value_across_the_length_limit_leaves_no_piece() {
        let secret = "S".repeat(50);
        let values =
            o2dms_core::Values::from_pairs([("p", o2dms_core::Value::from(secret.clone()))]);
        let scrub = Scrub::of([&values]);
        // The value straddles byte 4000 of the message.
        let stderr = format!("Error: {}{secret}{}", "x".repeat(3980), "y".repeat(100));
        let m = helm_message(&stderr, &scrub);
        assert!(!m.contains("SSSS"), "a piece of the value survives the cut");
        assert!(m.len() <= 4003);
    }
}
