//! `axis-pki`: the PKI administrators' CLI.
fn main() {}
