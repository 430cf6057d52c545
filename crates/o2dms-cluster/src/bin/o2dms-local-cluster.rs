//! `o2dms-local-cluster`: runs a local cluster in the foreground, or provisions tools.
//!
//! ```text
//! o2dms-local-cluster serve --dir DIR     # control plane + kubelet simulator until SIGTERM/SIGINT
//! o2dms-local-cluster provision [--cache-dir DIR] [--isolated]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use o2dms_cluster::tools::{ProvisionOptions, Provisioner};

fn usage() -> ExitCode {
    eprintln!(
        "usage:\n  o2dms-local-cluster serve --dir DIR\n  \
         o2dms-local-cluster provision [--cache-dir DIR] [--isolated]"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        return usage();
    };
    let mut dir: Option<PathBuf> = None;
    let mut cache_dir: Option<PathBuf> = None;
    let mut isolated = false;
    let mut rest = args[1..].iter();
    while let Some(a) = rest.next() {
        match a.as_str() {
            "--dir" => dir = rest.next().map(PathBuf::from),
            "--cache-dir" => cache_dir = rest.next().map(PathBuf::from),
            "--isolated" => isolated = true,
            _ => return usage(),
        }
    }
    match cmd.as_str() {
        "serve" => {
            let Some(dir) = dir else { return usage() };
            match o2dms_cluster::serve::serve_blocking(&dir) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("o2dms-local-cluster: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        "provision" => {
            let mut options = match (&cache_dir, isolated) {
                (Some(d), true) => ProvisionOptions::isolated(d),
                (None, true) => return usage(),
                _ => ProvisionOptions::default(),
            };
            if !isolated && cache_dir.is_some() {
                options.cache_dir = cache_dir;
            }
            let started = std::time::Instant::now();
            match Provisioner::new(options).all() {
                Ok(t) => {
                    println!("kubernetes {}", t.control_plane.kubernetes_version);
                    println!("etcd {}", t.control_plane.etcd.display());
                    println!(
                        "kube-apiserver {}",
                        t.control_plane.kube_apiserver.display()
                    );
                    println!(
                        "kube-controller-manager {}",
                        t.control_plane.kube_controller_manager.display()
                    );
                    println!(
                        "kube-scheduler {}",
                        t.control_plane.kube_scheduler.display()
                    );
                    println!("helm3 {}", t.helm3.display());
                    println!("helm4 {}", t.helm4.display());
                    println!("kubectl {}", t.kubectl.display());
                    println!("provisioned in {:.1}s", started.elapsed().as_secs_f64());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("o2dms-local-cluster: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => usage(),
    }
}
