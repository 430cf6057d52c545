//! One provisioning step: a progress spinner, a log file, and errors that say which
//! step, which command, and the tail of its log.

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::error::{ClusterError, Result};
use crate::process::{display_command, tail};

/// A running step. Finish it with [`Step::done`]; dropping it unfinished marks it failed.
pub(crate) struct Step {
    name: String,
    log_path: PathBuf,
    bar: Option<ProgressBar>,
    plain: bool,
    started: Instant,
    finished: bool,
}

impl Step {
    /// Starts a step whose log goes to `logs_dir/<slug>.log`.
    pub(crate) fn start(name: &str, logs_dir: &Path, progress: bool) -> Result<Step> {
        std::fs::create_dir_all(logs_dir)
            .map_err(|e| ClusterError::io(format!("creating {}", logs_dir.display()), e))?;
        let slug: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let log_path = logs_dir.join(format!("{slug}.log"));
        let _ = File::create(&log_path);
        let tty = std::io::stderr().is_terminal();
        let bar = if progress && tty {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} o2dms: {msg} [{elapsed}]")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_message(name.to_string());
            bar.enable_steady_tick(Duration::from_millis(120));
            Some(bar)
        } else {
            None
        };
        let plain = progress && !tty;
        if plain {
            eprintln!("o2dms: {name} ...");
        }
        Ok(Step {
            name: name.to_string(),
            log_path,
            bar,
            plain,
            started: Instant::now(),
            finished: false,
        })
    }

    /// Appends a line to the step's log.
    pub(crate) fn log(&self, line: &str) {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.log_path)
        {
            let _ = writeln!(f, "{line}");
        }
    }

    /// Runs a command to completion with its output appended to the step's log.
    pub(crate) fn run(&self, cmd: &mut Command) -> Result<()> {
        let shown = display_command(cmd);
        self.log(&format!("$ {shown}"));
        let open = || {
            std::fs::OpenOptions::new()
                .append(true)
                .open(&self.log_path)
                .map_err(|e| ClusterError::io(format!("opening {}", self.log_path.display()), e))
        };
        let status = cmd
            .stdin(Stdio::null())
            .stdout(open()?)
            .stderr(open()?)
            .status()
            .map_err(|e| self.fail_with(&format!("cannot run it: {e}"), Some(shown.clone())))?;
        if !status.success() {
            return Err(self.fail_with(&format!("command failed ({status})"), Some(shown)));
        }
        Ok(())
    }

    /// An error for this step, with the tail of its log.
    pub(crate) fn fail_with(&self, message: &str, command: Option<String>) -> ClusterError {
        self.log(&format!("error: {message}"));
        ClusterError::Provision {
            step: self.name.clone(),
            message: message.to_string(),
            command,
            log_path: Some(self.log_path.clone()),
            log_tail: Some(tail(&self.log_path, 25)),
        }
    }

    /// Marks the step successful.
    pub(crate) fn done(mut self, detail: &str) {
        self.finished = true;
        let secs = self.started.elapsed().as_secs_f64();
        let msg = if detail.is_empty() {
            format!("{} done ({secs:.1}s)", self.name)
        } else {
            format!("{}: {detail} ({secs:.1}s)", self.name)
        };
        if let Some(bar) = self.bar.take() {
            bar.finish_with_message(msg);
        } else if self.plain {
            eprintln!("o2dms: {msg}");
        }
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        if !self.finished {
            let msg = format!("{} FAILED (log: {})", self.name, self.log_path.display());
            if let Some(bar) = self.bar.take() {
                bar.abandon_with_message(msg);
            } else if self.plain {
                eprintln!("o2dms: {msg}");
            }
        }
    }
}
