//! Benchmarks of the mock (written in a later commit).

fn main() {}
