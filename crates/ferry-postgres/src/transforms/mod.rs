//! The PostgreSQL connector's own transforms.

pub mod timescaledb;
