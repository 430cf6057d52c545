//! How long `validate` takes: the small good fixture, and a chart of about 1 MiB
//! (inflated) with 200 templates and a 100 KiB values.yaml.

use std::io::Write;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use o2dms_chart::{validate, Limits};

fn big_chart() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |path: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, path, data).unwrap();
    };
    add(
        "big/Chart.yaml",
        b"apiVersion: v2\nname: big\nversion: 1.0.0\nappVersion: \"2.0\"\ndescription: bench\n",
    );
    let mut values = String::new();
    for i in 0..1000 {
        values.push_str(&format!(
            "component{i}:\n  enabled: true\n  replicas: {}\n  image: {{repository: registry.example.invalid/c{i}, tag: \"v{i}.0\"}}\n  env: [A, B]\n",
            i % 7
        ));
    }
    add("big/values.yaml", values.as_bytes());
    for i in 0..200 {
        let mut t = String::new();
        for j in 0..40 {
            t.push_str(&format!(
                "{{{{- if .Values.component{i}.enabled }}}}\n# line {j} of template {i}: {{{{ .Release.Name }}}}-{j}\n{{{{- end }}}}\n"
            ));
        }
        add(&format!("big/templates/t{i:03}.yaml"), t.as_bytes());
    }
    let tar = b.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

fn bench(c: &mut Criterion) {
    let limits = Limits::default();
    let good = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/archives/good.tgz"),
    )
    .unwrap();
    let big = big_chart();
    let inflated = validate(&big, &limits).unwrap().uncompressed_bytes;
    eprintln!(
        "big chart: {} bytes compressed, {inflated} bytes inflated",
        big.len()
    );

    let mut g = c.benchmark_group("validate");
    g.throughput(Throughput::Bytes(good.len() as u64));
    g.bench_function("good_fixture", |b| {
        b.iter(|| validate(&good, &limits).unwrap())
    });
    g.throughput(Throughput::Bytes(inflated));
    g.bench_function("chart_1mib", |b| {
        b.iter(|| validate(&big, &limits).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
