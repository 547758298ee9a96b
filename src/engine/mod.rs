//! The slot-allocation engine: pure functions from expert calendars and a request to free
//! slots. No async, no database, no HTTP. It arrives with the slot-search work; this module
//! only reserves its place in the dependency graph.
