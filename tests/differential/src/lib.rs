//! Ferry side by side with the real Kafka Connect 4.3.0 and Debezium 3.6.3.Final: the same
//! REST requests and the same data through both, every answer and record compared by JSON
//! path ([`diff`]), after the few normalisations of what must differ ([`normalise`]). A
//! scenario fails on any difference that is not listed, with its reason, as known
//! ([`report::Known`]); docs/compatibility.md lists the same.
//!
//! Each runtime gets a broker of its own (Tansu) and the same worker settings and topic
//! names. The real worker comes from `ferry_test_support::realconnect` (jars from PyPI,
//! Java 17).

#![warn(missing_docs)]

pub mod diff;
pub mod normalise;
pub mod pair;
pub mod postgres;
pub mod records;
pub mod report;
