//! End-to-end tests of the axis: a real server on port 0 over real mTLS, a fresh database per
//! test. `AXIS_TEST_DB=postgres` runs the same suite on PostgreSQL.
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

mod agency_tokens;
mod authz;
mod check_config;
mod crl_lifecycle;
mod delivery;
mod edxml;
mod envelope;
mod failover;
mod faults;
mod flow;
mod gateway;
mod gateway_crash;
mod gateway_directory;
mod gateway_json;
mod gateway_json_send;
mod gateway_sign;
mod gateway_tls;
mod holes;
mod raw;
mod refusals;
mod revocation;
mod sdk;
mod settle;
mod shared_log;
mod submit;
mod tokens;
mod units;
mod witness;
