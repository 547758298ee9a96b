//! Tests of the slot-allocation engine against a naive, minute-by-minute oracle.

mod arb;
mod cases;
mod oracle;
mod props;
